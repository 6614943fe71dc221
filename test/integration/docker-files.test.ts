import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import type { GatewayConfig } from '../../src/config/config-schema.js';
import { parseAddress } from '../../src/calls/address.js';
import { DialPlan } from '../../src/policy/dial-plan.js';

// Static checks of docker/: the Dockerfile, the compose file, the configs and
// the env example, against each other and against the gateway's own config
// loader. They need no container engine, so they always run; the real build
// is docker-image.test.ts.

const ROOT = resolve(import.meta.dirname, '../..');
const DOCKER = join(ROOT, 'docker');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

// ---------------------------------------------------------------- Dockerfile

interface Instruction {
  keyword: string;
  args: string;
  stage: string | undefined;
}

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue; // comments (also between continuation lines)
    if (/\\\s*$/.test(line)) {
      current += `${line.replace(/\\\s*$/, '')} `;
      continue;
    }
    current += line;
    if (current.trim()) logical.push(current.trim());
    current = '';
  }
  if (current.trim()) logical.push(current.trim());
  let stage: string | undefined;
  return logical.map((line) => {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/s.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') stage = /\bAS\s+(\S+)/i.exec(args)?.[1] ?? '(unnamed)';
    return { keyword: upper, args: args.trim(), stage };
  });
}

/** `ENV A=1 B=2` (the key=value form) as an object. */
function parseEnvInstruction(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) {
    env[match[1]!] = match[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

function parseJsonArray(args: string): string[] {
  const value: unknown = JSON.parse(args);
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new Error(`not an exec-form array: ${args}`);
  return value as string[];
}

const dockerfile = parseDockerfile(read('docker/Dockerfile'));
const runtime = dockerfile.filter((i) => i.stage === 'runtime');
const build = dockerfile.filter((i) => i.stage === 'build');
const imageEnv: Record<string, string> = Object.assign(
  {},
  ...runtime.filter((i) => i.keyword === 'ENV').map((i) => parseEnvInstruction(i.args)),
);
const exposed = runtime
  .filter((i) => i.keyword === 'EXPOSE')
  .flatMap((i) => i.args.split(/\s+/))
  .filter(Boolean);

/** The config the image runs with: its default --config file plus its ENV lines. */
function imageConfig(extraEnv: Record<string, string> = {}): GatewayConfig {
  return loadConfig({ file: join(DOCKER, 'switchboard.yaml'), env: { ...imageEnv, ...extraEnv } });
}

// ---------------------------------------------------------------- env files and compose

/** A dotenv file: active NAME=value lines, and the commented `# NAME=value` examples. */
function parseEnvFile(text: string): { active: Record<string, string>; commented: Record<string, string> } {
  const active: Record<string, string> = {};
  const commented: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const on = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (on) {
      active[on[1]!] = unquote(on[2]!.trim());
      continue;
    }
    const off = /^#\s?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (off) commented[off[1]!] = unquote(off[2]!.trim());
  }
  return { active, commented };
}

function unquote(value: string): string {
  return /^(["']).*\1$/.test(value) ? value.slice(1, -1) : value;
}

/** Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR and $$. */
function interpolate(text: string, vars: Record<string, string>, used: Set<string>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, op, arg, bare) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare) as string;
    used.add(name);
    const value = vars[name];
    const empty = value === undefined || (String(op ?? '').startsWith(':') && value === '');
    if (!empty) return value!;
    if (op === ':-' || op === '-') return arg as string;
    throw new Error(`compose would stop: \${${name}} is not set (${arg ?? 'no default'})`);
  });
}

function interpolateDeep(value: unknown, vars: Record<string, string>, used: Set<string>): unknown {
  if (typeof value === 'string') return interpolate(value, vars, used);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, vars, used));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, vars, used)]));
  }
  return value;
}

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  network_mode?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  env_file?: string[];
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
}

const composeText = read('docker/compose.yaml');
const composeRaw = parseYaml(composeText, { uniqueKeys: true }) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const envExample = parseEnvFile(read('docker/switchboard.env.example'));
const interpolated = new Set<string>();
const compose = interpolateDeep(composeRaw, envExample.active, interpolated) as typeof composeRaw;
const services = compose.services;
/** Files compose needs that the user makes from a template in the repository. */
const USER_FILES: Record<string, string> = { '.env': 'switchboard.env.example' };

/** What the gateway container's environment is under compose: image ENV, then env_file, then environment. */
function gatewayEnvironment(): Record<string, string> {
  const gateway = services.gateway!;
  expect(gateway.env_file).toEqual(['.env']);
  return { ...imageEnv, ...envExample.active, ...gateway.environment };
}

function flag(args: string[], name: string): string | undefined {
  const prefix = `--${name}=`;
  return args.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

function rangesOverlap(a: [number, number], b: [number, number]): boolean {
  return a[0] <= b[1] && b[0] <= a[1];
}

// ---------------------------------------------------------------- tests

describe('docker/Dockerfile', () => {
  it('is two stages from one base build argument, node:20 on Debian by default', () => {
    const firstFrom = dockerfile.findIndex((i) => i.keyword === 'FROM');
    const args = dockerfile.slice(0, firstFrom).filter((i) => i.keyword === 'ARG');
    expect(args.map((i) => i.args)).toContain('BASE=node:20-bookworm-slim');
    const froms = dockerfile.filter((i) => i.keyword === 'FROM').map((i) => i.args);
    expect(froms).toEqual(['${BASE} AS build', '${BASE} AS runtime']);
  });

  it('builds with dev dependencies, then keeps production and optional ones only', () => {
    const runs = build.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const all = runs.join('\n');
    expect(all).toMatch(/\bnpm ci\b/);
    expect(all).toMatch(/\bnpm run build\b/);
    expect(all).toMatch(/\bnpm prune --omit=dev\b/);
    expect(all.indexOf('npm run build')).toBeLessThan(all.indexOf('npm prune'));
    // node-datachannel's native module and esbuild's binary are optional dependencies.
    for (const i of dockerfile) expect(i.args, `${i.keyword} ${i.args}`).not.toMatch(/omit[= ]optional|--no-optional/);
    for (const file of ['.ci/run', 'scripts/install-peers.sh']) {
      const code = read(file)
        .split('\n')
        .filter((line) => !/^\s*#/.test(line))
        .join('\n');
      expect(code, file).not.toMatch(/omit[= ]optional|--no-optional/);
    }
  });

  it('copies only files that exist and that .dockerignore lets into the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const needed of ['node_modules', 'dist', '.git', 'test', 'bench/results']) expect(ignored).toContain(needed);
    const copies = dockerfile.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='));
    expect(copies.length).toBeGreaterThan(3);
    for (const copy of copies) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        expect(existsSync(join(ROOT, source)), `COPY ${source}`).toBe(true);
        expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `COPY ${source} is ignored`).toBe(false);
      }
    }
    // tsconfig.build.json compiles these folders; each must be in the image's build stage.
    const built = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    const copied = copies.flatMap((c) => c.args.split(/\s+/).slice(0, -1));
    for (const folder of built) expect(copied, `tsconfig.build.json includes ${folder}`).toContain(folder);
  });

  it('runtime: production files only, a non-root user, the entry point and the shipped config', () => {
    const fromBuild = runtime
      .filter((i) => i.keyword === 'COPY' && i.args.includes('--from=build'))
      .map((i) => i.args.split(/\s+/)[1]);
    expect(fromBuild).toEqual(expect.arrayContaining(['/app/node_modules', '/app/dist', '/app/bin']));
    expect(fromBuild.some((f) => f?.includes('package.json'))).toBe(true);
    expect(fromBuild).not.toContain('/app/src');

    const users = runtime.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)!;
    expect(user.split(':')[0]).not.toMatch(/^(root|0)$/);
    // A base without the node user (any non-official base) gets one with that uid.
    if (/^\d+/.test(user)) {
      const uid = user.split(':')[0]!;
      expect(runtime.some((i) => i.keyword === 'RUN' && i.args.includes(`--uid ${uid}`))).toBe(true);
    }
    // The last USER comes after every RUN: nothing runs as root at start.
    const lastUser = runtime.findLastIndex((i) => i.keyword === 'USER');
    expect(runtime.slice(lastUser).some((i) => i.keyword === 'RUN')).toBe(false);

    const entrypoint = parseJsonArray(runtime.find((i) => i.keyword === 'ENTRYPOINT')!.args);
    const cmd = parseJsonArray(runtime.find((i) => i.keyword === 'CMD')!.args);
    expect(entrypoint).toEqual(['node', 'bin/switchboard.js']);
    expect(existsSync(join(ROOT, 'bin/switchboard.js'))).toBe(true);
    expect(runtime.find((i) => i.keyword === 'WORKDIR')?.args).toBe('/app');
    expect(cmd).toEqual(['--config', '/etc/switchboard/switchboard.yaml']);
    expect(runtime.some((i) => i.keyword === 'COPY' && i.args === 'docker/switchboard.yaml /etc/switchboard/switchboard.yaml')).toBe(true);
  });

  it('HEALTHCHECK fetches /healthz on the configured HTTP port, in exec form', () => {
    const healthchecks = runtime.filter((i) => i.keyword === 'HEALTHCHECK');
    expect(healthchecks).toHaveLength(1);
    const [, options = '', command = ''] = /^(.*?)\bCMD\s+(.*)$/s.exec(healthchecks[0]!.args) ?? [];
    expect(options).toMatch(/--interval=\S+/);
    expect(options).toMatch(/--timeout=\S+/);
    const argv = parseJsonArray(command);
    expect(argv.slice(0, 2)).toEqual(['node', '-e']);
    expect(argv[2]).toContain('/healthz');
    expect(argv[2]).toContain('http://127.0.0.1:');
    // The port it falls back to is the image's server.port.
    expect(argv[2]).toContain(`||${imageConfig().server.port})`);
  });

  it('EXPOSEs exactly the ports the image config listens on (SIP over TLS: its default port)', () => {
    const config = imageConfig();
    const { media, sip } = config;
    expect(media.icePortMin).toBeDefined();
    expect(media.icePortMax).toBeDefined();
    expect(sip.enabled && sip.udp && sip.tcp).toBe(true);
    // TLS needs a certificate, so the shipped config leaves it off; its port is the schema's default.
    expect(sip.tls).toBeUndefined();
    const tlsPort = loadConfig({
      env: { SWITCHBOARD_SIP__TLS: '{certFile: /c.pem, keyFile: /k.pem}' },
    }).sip.tls!.port;
    const expected = [
      `${config.server.port}/tcp`,
      `${config.stun.port}/udp`,
      `${sip.port}/udp`,
      `${sip.port}/tcp`,
      `${tlsPort}/tcp`,
      `${media.rtpPortMin}-${media.rtpPortMax}/udp`,
      `${media.icePortMin}-${media.icePortMax}/udp`,
    ];
    expect([...exposed].sort()).toEqual([...expected].sort());
    // RTP takes even ports with RTCP on the next odd one; the ICE range is separate.
    expect(media.rtpPortMin % 2).toBe(0);
    expect(media.rtpPortMax % 2).toBe(1);
    expect(rangesOverlap([media.rtpPortMin, media.rtpPortMax], [media.icePortMin!, media.icePortMax!])).toBe(false);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.stun.host).toBe('0.0.0.0');
    expect(sip.host).toBe('0.0.0.0');
  });

  it('the shipped config file alone (outside the image) has the same ports as the image', () => {
    const fileOnly = loadConfig({ file: join(DOCKER, 'switchboard.yaml') });
    const image = imageConfig();
    expect(fileOnly.server).toEqual(image.server);
    expect(fileOnly.stun).toEqual(image.stun);
    expect(fileOnly.media).toEqual(image.media);
    expect(fileOnly.sip).toEqual(image.sip);
    // Safe values: no secret in the shipped file, metrics and STUN on.
    expect(fileOnly.auth.secret).toBeUndefined();
    expect(fileOnly.stun.enabled).toBe(true);
  });
});

describe('docker/compose.yaml', () => {
  it('has no top-level name (Compose v1 rejects it): the env example sets COMPOSE_PROJECT_NAME instead', () => {
    expect(composeRaw).not.toHaveProperty('name');
    expect(envExample.active.COMPOSE_PROJECT_NAME).toBe('switchboard');
  });

  it('docker/compose.bridge.yaml publishes each of the gateway ports on the same number it listens on', () => {
    const bridge = parseYaml(read('docker/compose.bridge.yaml'), { uniqueKeys: true }) as { services: Record<string, Service> };
    expect(Object.keys(bridge.services)).toEqual(['gateway']);
    const vars = { ...envExample.active, HTTP_PORT: '9080', STUN_PORT: '9078', SIP_PORT: '9060', RTP_PORT_MIN: '30000', RTP_PORT_MAX: '30009', ICE_PORT_MIN: '30010', ICE_PORT_MAX: '30019' };
    const gateway = interpolateDeep(bridge.services.gateway, vars, new Set()) as Service & { ports: string[] };
    expect(gateway.network_mode).toBe('bridge');
    const config = loadConfig({ env: { ...(gateway.environment as Record<string, string>) } });
    const published = gateway.ports.map((port) => port.split(':').slice(1).join(':'));
    expect(published.sort()).toEqual(
      [
        `${config.server.port}:${config.server.port}/tcp`,
        `${config.stun.port}:${config.stun.port}/udp`,
        `${config.sip.port}:${config.sip.port}/udp`,
        `${config.sip.port}:${config.sip.port}/tcp`,
        `${config.media.rtpPortMin}-${config.media.rtpPortMax}:${config.media.rtpPortMin}-${config.media.rtpPortMax}/udp`,
        `${config.media.icePortMin}-${config.media.icePortMax}:${config.media.icePortMin}-${config.media.icePortMax}/udp`,
      ].sort(),
    );
    expect(config.server.port).toBe(9080);
    expect(config.media.icePortMax).toBe(30019);
  });

  it('has the gateway, coturn and redis by default, Kamailio, Prosody, Prometheus + Grafana behind the sip, xmpp and monitoring profiles, a cluster behind its own', () => {
    expect(Object.keys(services).sort()).toEqual(['cluster-edge', 'cluster-node-1', 'cluster-node-2', 'coturn', 'gateway', 'grafana', 'kamailio', 'prometheus', 'prosody', 'redis']);
    for (const name of ['gateway', 'coturn', 'redis']) expect(services[name]!.profiles, name).toBeUndefined();
    expect(services.kamailio!.profiles).toEqual(['sip']);
    expect(services.prosody!.profiles).toEqual(['xmpp']);
    expect(services.prometheus!.profiles).toEqual(['monitoring']);
    expect(services.grafana!.profiles).toEqual(['monitoring']);
    for (const name of ['cluster-edge', 'cluster-node-1', 'cluster-node-2']) expect(services[name]!.profiles, name).toEqual(['cluster']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, name).toBeTruthy();
    }
  });

  it('builds the gateway from the repository root with docker/Dockerfile', () => {
    const build = services.gateway!.build!;
    expect(resolve(DOCKER, build.context)).toBe(ROOT);
    expect(existsSync(join(resolve(DOCKER, build.context), build.dockerfile))).toBe(true);
  });

  it('every file it mounts or reads exists (or, for docker/.env, its template does)', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) {
          expect(composeRaw.volumes ?? {}, `${name}: named volume ${source}`).toHaveProperty(source);
          continue;
        }
        expect(existsSync(resolve(DOCKER, source)), `${name} mounts ${source}`).toBe(true);
      }
      for (const file of service.env_file ?? []) {
        const template = USER_FILES[file];
        expect(template, `${name}: env_file ${file} has a template`).toBeDefined();
        expect(existsSync(join(DOCKER, template!))).toBe(true);
      }
    }
    // The user's file with secrets stays out of git and out of the build context.
    expect(read('docker/.gitignore').split('\n')).toContain('.env');
    expect(read('.dockerignore')).toMatch(/^\*\*\/\.env$/m);
  });

  it('puts media on the host network (ranges are not published through a bridge)', () => {
    for (const name of ['gateway', 'coturn', 'kamailio', 'prosody', 'cluster-node-1', 'cluster-node-2', 'cluster-edge']) expect(services[name]!.network_mode, name).toBe('host');
    // The bridge alternative (compose.bridge.yaml), with no port settings, publishes the ranges the image uses.
    const config = imageConfig();
    const bridge = parseYaml(read('docker/compose.bridge.yaml'), { uniqueKeys: true }) as { services: Record<string, Service> };
    const published = (interpolateDeep(bridge.services.gateway, envExample.active, new Set()) as Service).ports!;
    expect(published).toContain(`0.0.0.0:${config.media.rtpPortMin}-${config.media.rtpPortMax}:${config.media.rtpPortMin}-${config.media.rtpPortMax}/udp`);
    expect(published).toContain(`0.0.0.0:${config.media.icePortMin}-${config.media.icePortMax}:${config.media.icePortMin}-${config.media.icePortMax}/udp`);
  });

  it('shares one TURN secret between coturn and the gateway, and the gateway config it makes is valid', () => {
    const config = loadConfig({ file: join(DOCKER, 'switchboard.yaml'), env: gatewayEnvironment() });
    const coturn = services.coturn!.command!;
    expect(coturn).toContain('--use-auth-secret');
    expect(flag(coturn, 'static-auth-secret')).toBe(envExample.active.TURN_SECRET);
    expect(config.ice.turn).toHaveLength(1);
    expect(config.ice.turn[0]!.secret).toBe(envExample.active.TURN_SECRET);
    // Browsers are sent to the port coturn listens on, at the public address.
    const turnPort = flag(coturn, 'listening-port');
    expect(turnPort).toBeDefined();
    for (const url of config.ice.turn[0]!.urls) expect(url).toMatch(new RegExp(`^turn:${envExample.active.PUBLIC_IP!.replace(/\./g, '\\.')}:${turnPort}\\b`));
    expect(config.media.announcedAddress).toBe(envExample.active.PUBLIC_IP);
    expect(flag(coturn, 'external-ip')).toBe(envExample.active.PUBLIC_IP);
    expect(flag(coturn, 'realm')).toBeTruthy();
    expect(config.auth.secret).toBe(envExample.active.SWITCHBOARD_AUTH__SECRET);
  });

  it('gives the gateway time to drain its calls before the engine kills it', () => {
    const config = loadConfig({ file: join(DOCKER, 'switchboard.yaml'), env: gatewayEnvironment() });
    const grace = /^(\d+)s$/.exec(String(services.gateway!.stop_grace_period))?.[1];
    expect(grace, 'stop_grace_period in seconds').toBeDefined();
    expect(Number(grace) * 1000).toBeGreaterThan(config.server.drainTimeoutMs);
    expect(runtime.find((i) => i.keyword === 'STOPSIGNAL')?.args).toBe('SIGTERM');
  });

  it("coturn's ports clash with none of the gateway's", () => {
    const coturn = services.coturn!.command!;
    const config = imageConfig();
    const turnPort = Number(flag(coturn, 'listening-port'));
    expect(turnPort).not.toBe(config.stun.port);
    expect(turnPort).not.toBe(config.server.port);
    const relays: [number, number] = [Number(flag(coturn, 'min-port')), Number(flag(coturn, 'max-port'))];
    expect(relays[0]).toBeLessThan(relays[1]);
    expect(rangesOverlap(relays, [config.media.rtpPortMin, config.media.rtpPortMax])).toBe(false);
    expect(rangesOverlap(relays, [config.media.icePortMin!, config.media.icePortMax!])).toBe(false);
    expect(rangesOverlap(relays, [turnPort, turnPort])).toBe(false);
  });

  it('redis keeps nothing on disk and listens on loopback only', () => {
    const redis = services.redis!;
    expect(redis.command).toEqual(['redis-server', '--save', '', '--appendonly', 'no']);
    expect(redis.ports).toEqual(['127.0.0.1:6379:6379']);
  });

  it('every variable compose interpolates is set in the env example (or has a default)', () => {
    for (const name of interpolated) {
      const hasDefault = new RegExp(`\\$\\{${name}:?-`).test(composeText);
      expect(name in envExample.active || hasDefault, `\${${name}}`).toBe(true);
    }
    // Without the env file compose refuses to start rather than run with an empty secret.
    expect(() => interpolateDeep(composeRaw, {}, new Set())).toThrow(/TURN_SECRET|PUBLIC_IP/);
  });
});

describe('the cluster profile of docker/compose.yaml', () => {
  const nodes = ['cluster-node-1', 'cluster-node-2'];
  /** What a cluster node's container runs with: image ENV, the env file, its environment, its --workers. */
  const nodeConfig = (name: string) => {
    const service = services[name]!;
    const config = loadConfig({ file: join(DOCKER, 'switchboard.yaml'), env: { ...imageEnv, ...envExample.active, ...service.environment } });
    const workers = Number(service.command![service.command!.indexOf('--workers') + 1]);
    return { config, workers };
  };

  it('runs each node with several workers on the Redis directory, under a node id of its own', () => {
    const ids = new Set<string>();
    for (const name of nodes) {
      const { config, workers } = nodeConfig(name);
      expect(workers, name).toBeGreaterThan(1);
      expect(config.directory.kind).toBe('redis');
      expect(config.directory.redis.url).toBe('redis://127.0.0.1:6379');
      ids.add(config.cluster.nodeId!);
    }
    expect(ids.size).toBe(nodes.length);
  });

  it('gives every node, worker and service ports of its own', () => {
    const used: { who: string; range: [number, number] }[] = [];
    const take = (who: string, range: [number, number]) => {
      for (const other of used) expect(rangesOverlap(range, other.range), `${who} and ${other.who}`).toBe(false);
      used.push({ who, range });
    };
    const single = imageConfig(services.gateway!.environment);
    take('gateway rtp', [single.media.rtpPortMin, single.media.icePortMax!]);
    const coturn = services.coturn!.command!;
    take('coturn relays', [Number(flag(coturn, 'min-port')), Number(flag(coturn, 'max-port'))]);
    for (const name of nodes) {
      const { config, workers } = nodeConfig(name);
      take(`${name} media`, [config.media.rtpPortMin, config.media.icePortMax!]);
      take(`${name} sip`, [config.sip.port, config.sip.port + 2 * (workers - 1) + 1]);
      for (const port of [config.server.port, config.stun.port]) take(`${name} ${port}`, [port, port]);
    }
    for (const port of [single.server.port, single.stun.port, single.sip.port, 5061, 5070, 5080, Number(flag(coturn, 'listening-port'))]) take(`port ${port}`, [port, port]);
  });

  it("the edge's dispatcher list names exactly the nodes' worker SIP ports, and the nodes register there", () => {
    const listed = [...read('docker/kamailio/dispatcher.list').matchAll(/^1 sip:127\.0\.0\.1:(\d+)$/gm)].map((m) => Number(m[1]));
    const expected: number[] = [];
    for (const name of nodes) {
      const { config, workers } = nodeConfig(name);
      for (let i = 0; i < workers; i++) expected.push(config.sip.port + 2 * i);
      const edgePort = services['cluster-edge']!.environment!.SB_PORT;
      expect(config.sip.edge?.registrar).toBe(`sip:127.0.0.1:${edgePort}`);
      expect(config.sip.outbound.proxy).toBe(`sip:127.0.0.1:${edgePort}`);
      expect(config.sip.edge?.domain).toBe(services['cluster-edge']!.environment!.SB_DOMAIN);
    }
    expect(listed.sort()).toEqual(expected.sort());
  });

  it('kamailio -c accepts the edge config (the Debian package, its own module path)', () => {
    const result = spawnSync('kamailio', ['-c', '-f', join(DOCKER, 'kamailio/kamailio-cluster.cfg')], {
      encoding: 'utf8',
      timeout: 15_000,
      env: { PATH: process.env.PATH, SB_DISPATCHER_LIST: join(DOCKER, 'kamailio/dispatcher.list') },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr + result.stdout).toContain('config file ok');
    expect(read('docker/kamailio/kamailio-cluster.cfg')).not.toMatch(/^\s*mpath\s*=/m);
  });
});

describe('docker/switchboard.env.example', () => {
  it('sets only variables that compose uses or that are gateway options', () => {
    for (const name of Object.keys(envExample.active)) {
      // COMPOSE_*: read by Compose itself (COMPOSE_PROJECT_NAME).
      expect(name.startsWith('SWITCHBOARD_') || name.startsWith('COMPOSE_') || interpolated.has(name), `${name} is used by nothing`).toBe(true);
    }
    expect(Object.keys(envExample.active)).toEqual(expect.arrayContaining(['PUBLIC_IP', 'TURN_SECRET', 'SWITCHBOARD_AUTH__SECRET']));
  });

  it('every SWITCHBOARD_* line, active or commented out, is a valid option with a valid value', () => {
    const gatewayLines = (vars: Record<string, string>) =>
      Object.fromEntries(Object.entries(vars).filter(([name]) => name.startsWith('SWITCHBOARD_')));
    const active = gatewayLines(envExample.active);
    const commented = gatewayLines(envExample.commented);
    expect(Object.keys(commented)).toEqual(
      expect.arrayContaining(['SWITCHBOARD_MEDIA__ANNOUNCED_ADDRESS', 'SWITCHBOARD_ICE__TURN', 'SWITCHBOARD_ICE__PUBLIC_HOST']),
    );
    expect(() => loadConfig({ env: active })).not.toThrow();
    for (const [name, value] of Object.entries(commented)) {
      expect(() => loadConfig({ env: { ...active, [name]: value } }), `${name}=${value}`).not.toThrow();
    }
    // The flow-YAML TURN list parses into the structure the schema wants.
    const withTurn = loadConfig({ env: { ...active, ...commented } });
    expect(withTurn.ice.turn).toEqual([
      {
        urls: [`turn:${envExample.active.PUBLIC_IP}:3479?transport=udp`, `turn:${envExample.active.PUBLIC_IP}:3479?transport=tcp`],
        secret: envExample.active.TURN_SECRET,
        ttlSeconds: 86_400,
      },
    ]);
    expect(withTurn.media.announcedAddress).toBe(envExample.active.PUBLIC_IP);
    expect(withTurn.ice.publicHost).toBe(commented.SWITCHBOARD_ICE__PUBLIC_HOST);
    // The SIP lines point at the lab's Kamailio and let token users (not guests) dial its domain.
    const kamailioDomain = /^#!substdef "!LAB_DOMAIN!([^!]+)!g"$/m.exec(read('docker/kamailio/kamailio.cfg'))?.[1];
    expect(kamailioDomain).toBeDefined();
    expect(withTurn.sip.outbound.proxy).toBe(`sip:${envExample.active.PUBLIC_IP}:5070`);
    const plan = new DialPlan(withTurn.sip.outbound.dialPlan);
    const user = { kind: 'user', user: 'alice', groups: [] } as const;
    expect(plan.decide(parseAddress(`sip:bob@${kamailioDomain}`), user).allowed).toBe(true);
    expect(plan.decide(parseAddress('sip:bob@switchboardXlab'), user).allowed).toBe(false);
    expect(plan.decide(parseAddress(`sip:bob@${kamailioDomain}`), { kind: 'guest', user: 'guest-eve' }).allowed).toBe(false);
    // Its commented port lines agree with the image.
    const image = imageConfig();
    expect(withTurn.media.rtpPortMin).toBe(image.media.rtpPortMin);
    expect(withTurn.media.icePortMax).toBe(image.media.icePortMax);
  });

  it('the TURN secret is safe on a command line (coturn gets it as an argument)', () => {
    expect(envExample.active.TURN_SECRET).toMatch(/^[A-Za-z0-9]{16,}$/);
  });
});

describe('lab configs for Kamailio and Prosody', () => {
  const kamailioCfg = read('docker/kamailio/kamailio.cfg');
  const prosodyCfg = read('docker/prosody/prosody.cfg.lua');

  it("Kamailio listens on UDP and TCP 5070, clear of the gateway's SIP ports", () => {
    const listens = [...kamailioCfg.matchAll(/^listen=(\w+):([^:\s]+):(\d+)/gm)].map((m) => `${m[3]}/${m[1]}`);
    expect(listens.sort()).toEqual(['5070/tcp', '5070/udp']);
    for (const port of listens) expect(exposed).not.toContain(port);
    for (const module of ['tm.so', 'sl.so', 'registrar.so', 'usrloc.so', 'textops.so', 'rr.so']) expect(kamailioCfg).toContain(`loadmodule "${module}"`);
    // No module path: each kamailio build (Debian, Alpine kamailio-ci) uses its own.
    expect(kamailioCfg).not.toMatch(/^\s*mpath\s*=/m);
  });

  it('Prosody serves VirtualHost localhost on c2s 5222 with internal_plain auth and no TLS requirement', () => {
    expect(prosodyCfg).toMatch(/^VirtualHost "localhost"$/m);
    expect(prosodyCfg).toMatch(/^c2s_ports = \{ 5222 \}$/m);
    expect(prosodyCfg).toMatch(/^authentication = "internal_plain"$/m);
    expect(prosodyCfg).toMatch(/^c2s_require_encryption = false$/m);
  });

  // Both programs come from scripts/install-peers.sh; without them these fail rather than skip.
  it('kamailio -c accepts the config (the Debian package, its own module path)', () => {
    const result = spawnSync('kamailio', ['-c', '-f', join(DOCKER, 'kamailio/kamailio.cfg')], { encoding: 'utf8', timeout: 15_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr + result.stdout).toContain('config file ok');
  });

  it('prosodyctl check config passes', () => {
    // prosodyctl reads the file as the prosody user: give it a world-readable copy.
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-prosody-'));
    try {
      chmodSync(dir, 0o755);
      const file = join(dir, 'prosody.cfg.lua');
      copyFileSync(join(DOCKER, 'prosody/prosody.cfg.lua'), file);
      chmodSync(file, 0o644);
      const result = spawnSync('prosodyctl', ['--config', file, 'check', 'config'], { encoding: 'utf8', timeout: 15_000 });
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain('All checks passed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('docker/README.md', () => {
  it('documents the commands and files that exist', () => {
    const readme = read('docker/README.md');
    expect(readme).toContain('docker compose -f docker/compose.yaml');
    expect(readme).toContain('--profile sip');
    expect(readme).toContain('--profile xmpp');
    for (const [, path] of readme.matchAll(/`(docker\/[A-Za-z0-9_./-]+)`/g)) {
      if (path === 'docker/.env') continue; // made by the user from the example
      expect(existsSync(join(ROOT, path!)), path).toBe(true);
    }
  });
});
