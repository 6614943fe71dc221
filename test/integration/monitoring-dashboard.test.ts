import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { validateConfig } from '../../src/config/load-config.js';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics.js';
import { duplicateJsonKeys } from '../support/json-duplicate-keys.js';

// The Grafana dashboard of docker/monitoring against the metrics the gateway
// really exports: every series a query names exists (with the labels it groups
// by), every metric of the gateway's own is on a panel, and the compose
// profile wires Prometheus and Grafana to the files. Grafana itself is not in
// Debian 12's archive (and no other registry is reachable here), so the JSON
// is checked rather than loaded.

const ROOT = resolve(import.meta.dirname, '../..');
const MONITORING = join(ROOT, 'docker/monitoring');
const dashboardText = readFileSync(join(MONITORING, 'grafana/dashboards/switchboard.json'), 'utf8');

interface Target {
  expr: string;
  refId: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
}
const dashboard = JSON.parse(dashboardText) as { uid: string; title: string; panels: Panel[]; templating: { list: { name: string; type: string; query: unknown }[] } };
const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

/** What the gateway exports: metric name -> type and label names (prom-client's view of its registry). */
async function exportedMetrics(): Promise<Map<string, { type: string; labels: Set<string> }>> {
  const metrics = new GatewayMetrics();
  const exported = new Map<string, { type: string; labels: Set<string> }>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    const labels = new Set<string>();
    for (const value of metric.values) for (const label of Object.keys(value.labels ?? {})) labels.add(label);
    // Declared label names count even before a first value (prom-client keeps them on the metric).
    const declared = (metrics.registry.getSingleMetric(metric.name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? [];
    for (const label of declared) labels.add(label);
    exported.set(metric.name, { type: String(metric.type), labels });
  }
  return exported;
}

/** The series a PromQL expression reads: `switchboard_*` names (with a histogram's _bucket/_sum/_count). */
function seriesIn(expr: string): string[] {
  return [...expr.matchAll(/\b(switchboard_[a-z0-9_]+)\b/g)].map((match) => match[1]!);
}

/** The metric a series belongs to, and the series' suffix. */
function metricOf(series: string, exported: Map<string, { type: string }>): { name: string; suffix: string } | undefined {
  if (exported.has(series)) return { name: series, suffix: '' };
  const match = /^(.*)_(bucket|sum|count)$/.exec(series);
  if (match && ['histogram', 'summary'].includes(exported.get(match[1]!)?.type ?? '')) return { name: match[1]!, suffix: match[2]! };
  return undefined;
}

/** Label names in `by (...)` and in `{label=...}` selectors. */
function labelsIn(expr: string): string[] {
  const grouped = [...expr.matchAll(/\bby \(([^)]*)\)/g)].flatMap((match) => match[1]!.split(',').map((label) => label.trim()));
  const selected = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((match) => [...match[1]!.matchAll(/([a-z_]+)\s*(=~|!=|!~|=)/g)].map((m) => m[1]!));
  return [...grouped, ...selected].filter(Boolean);
}

/** Labels Prometheus adds to every scraped series, and the bucket bound. */
const SCRAPE_LABELS = new Set(['instance', 'job', 'le']);

describe('the Grafana dashboard (docker/monitoring/grafana/dashboards/switchboard.json)', () => {
  it('is one JSON object without duplicate keys, with unique panel ids inside a 24-column grid', () => {
    expect(duplicateJsonKeys(dashboardText)).toEqual([]);
    expect(dashboard.uid).toBe('switchboard-gateway');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      expect(new Set(panel.targets!.map((target) => target.refId)).size, panel.title).toBe(panel.targets!.length);
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual(['datasource', 'instance']);
  });

  it('every series its queries read is one the gateway exports, grouped only by labels it has', async () => {
    const exported = await exportedMetrics();
    expect(queries.length).toBeGreaterThan(15);
    for (const { panel, expr } of queries) {
      const names = seriesIn(expr);
      expect(names.length, `${panel}: ${expr}`).toBeGreaterThan(0);
      for (const series of names) {
        const metric = metricOf(series, exported);
        expect(metric, `${panel}: ${series} is not exported by the gateway`).toBeDefined();
        const { labels } = exported.get(metric!.name)!;
        for (const label of labelsIn(expr)) {
          const known = labels.has(label) || SCRAPE_LABELS.has(label);
          expect(known, `${panel}: ${series} has no label "${label}"`).toBe(true);
        }
        // Rates of counters, quantiles of histogram buckets: the usual mistakes fail here.
        if (exported.get(metric!.name)!.type === 'counter') expect(expr, `${panel}: a counter is read with rate() or increase()`).toMatch(new RegExp(`(rate|increase)\\(${series}\\b`));
        if (metric!.suffix === 'bucket') expect(expr, `${panel}: buckets go through histogram_quantile`).toMatch(/histogram_quantile\(/);
      }
    }
  });

  it('has a panel for every metric of the gateway (process defaults aside)', async () => {
    const exported = await exportedMetrics();
    const own = [...exported.keys()].filter((name) => !/^switchboard_(process|nodejs)_/.test(name));
    const read = new Set(queries.flatMap(({ expr }) => seriesIn(expr)).map((series) => metricOf(series, exported)?.name));
    expect(own.filter((name) => !read.has(name))).toEqual([]);
    for (const name of ['switchboard_calls_active', 'switchboard_call_setup_seconds', 'switchboard_signaling_errors_total', 'switchboard_websocket_connections', 'switchboard_anchor_packets_total', 'switchboard_anchor_packets_lost_total', 'switchboard_anchor_call_jitter_seconds', 'switchboard_uncaught_errors_total']) {
      expect(own).toContain(name);
    }
  });
});

describe('the monitoring profile wiring', () => {
  const compose = parseYaml(readFileSync(join(ROOT, 'docker/compose.yaml'), 'utf8')) as {
    services: Record<string, { volumes?: string[]; environment?: Record<string, string>; command?: string[] }>;
  };

  it('Prometheus scrapes the gateway on its default HTTP port, and Grafana reads from that Prometheus', () => {
    const prometheus = parseYaml(readFileSync(join(MONITORING, 'prometheus.yml'), 'utf8')) as {
      scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
    };
    const [job] = prometheus.scrape_configs;
    expect(job!.metrics_path).toBe('/metrics');
    expect(job!.static_configs[0]!.targets).toEqual([`127.0.0.1:${validateConfig({}).server.port}`]);
    const listen = compose.services.prometheus!.command!.find((arg) => arg.startsWith('--web.listen-address='));
    const datasources = parseYaml(readFileSync(join(MONITORING, 'grafana/provisioning/datasources/prometheus.yaml'), 'utf8')) as {
      datasources: { type: string; url: string }[];
    };
    expect(datasources.datasources).toHaveLength(1);
    expect(datasources.datasources[0]!.type).toBe('prometheus');
    expect(datasources.datasources[0]!.url).toBe(`http://${listen!.split('=')[1]}`);
  });

  it('Grafana loads the dashboard from the folder compose mounts, and stays on loopback unless told', () => {
    const grafana = compose.services.grafana!;
    const provider = parseYaml(readFileSync(join(MONITORING, 'grafana/provisioning/dashboards/switchboard.yaml'), 'utf8')) as {
      providers: { type: string; options: { path: string } }[];
    };
    const mounts = Object.fromEntries((grafana.volumes ?? []).map((volume) => [volume.split(':')[1], volume.split(':')[0]]));
    expect(mounts[provider.providers[0]!.options.path]).toBe('./monitoring/grafana/dashboards');
    expect(mounts['/etc/grafana/provisioning']).toBe('./monitoring/grafana/provisioning');
    expect(grafana.environment!.GF_SERVER_HTTP_ADDR).toBe('${GRAFANA_ADDR:-127.0.0.1}');
    expect(grafana.environment!.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
  });
});
