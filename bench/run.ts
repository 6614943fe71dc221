/**
 * `npm run bench [name...]`: runs the named benchmarks (all when none is
 * named) one after the other, never in parallel, since they measure time and
 * memory on the same machine. Each writes bench/results/<name>.json (every
 * figure, for comparing runs) and bench/results/<name>.md (the tables), and
 * the Markdown is printed on stdout; progress goes to stderr.
 */
import { pathToFileURL } from 'node:url';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
}

export interface BenchmarkResult {
  /** One paragraph: what was measured and how. */
  method: string;
  tables: Table[];
  /** Caveats worth reading next to the figures (caps, pacing...). */
  notes: string[];
  /** Raw figures for the JSON file. */
  data: unknown;
}

export interface Benchmark {
  name: string;
  description: string;
  run(log: (line: string) => void): Promise<BenchmarkResult>;
}

/**
 * Registry of benchmarks, in the order `npm run bench` runs them. Loaded on
 * demand: running one benchmark does not load (or pay memory for) the others.
 */
const BENCHMARKS: { name: string; load: () => Promise<Benchmark> }[] = [
  { name: 'signaling', load: async () => (await import('./signaling-bench.js')).signalingBenchmark },
  { name: 'media', load: async () => (await import('./media-bench.js')).mediaBenchmark },
  { name: 'sip', load: async () => (await import('./sip-bench.js')).sipBenchmark },
  { name: 'cluster', load: async () => (await import('./cluster-bench.js')).clusterBenchmark },
  { name: 'recovery', load: async () => (await import('./recovery-bench.js')).recoveryBenchmark },
];

// ---------------------------------------------------------------- helpers for benchmarks

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles, in the unit of the samples (NaN when there are none). */
export function percentiles(samples: number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  return { p50: at(50), p90: at(90), p99: at(99), max: at(100) };
}

export const formatMiB = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
export const formatKiB = (bytes: number): string => (bytes / 1024).toFixed(1);
export const formatMs = (ms: number): string => ms.toFixed(2);

/** Soft limit on open files of this process (children inherit it), from /proc; undefined off Linux. */
export function openFileLimit(): number | undefined {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!match) return undefined;
    return match[1] === 'unlimited' ? Infinity : Number(match[1]);
  } catch {
    return undefined;
  }
}

/**
 * Caps counts of `unit`s (each holding one file descriptor per process) so that
 * count + headroom fits the soft `ulimit -n`. Nothing is raised: a cap is
 * recorded in `notes`, with the limit that would run the full count.
 */
export function capToOpenFileLimit(counts: number[], headroom: number, unit: string, notes: string[]): number[] {
  const limit = openFileLimit() ?? Infinity;
  const max = limit - headroom;
  notes.push(`Open-file soft limit (ulimit -n): ${limit}; each ${unit} holds one file descriptor per process.`);
  return counts.map((count) => {
    if (count <= max) return count;
    notes.push(`${count} ${unit}s capped to ${max} by ulimit -n ${limit}; ulimit -n ${count + headroom} runs the full count.`);
    return max;
  });
}

// ---------------------------------------------------------------- runner

// dist/bench/run.js -> <package>/bench/results/: results live next to the sources, not in dist.
const RESULTS_DIR = new URL('../../bench/results/', import.meta.url);

interface Environment {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  /** 1-minute load average when the benchmark started: others' work on the machine skews the tails. */
  loadAverage: number;
}

function describeEnvironment(): Environment {
  const cores = cpus();
  return {
    node: process.version,
    platform: `${platform()} ${release()}`,
    cpu: cores[0]?.model.trim() ?? 'unknown',
    cores: cores.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}

function markdownTable(table: Table): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  // Numbers right-aligned: every column but the first holds figures.
  const align = table.headers.map((_, i) => (i === 0 ? '---' : '---:'));
  return [`### ${table.title}`, '', line(table.headers), line(align), ...table.rows.map(line)].join('\n');
}

function renderMarkdown(benchmark: Benchmark, result: BenchmarkResult, env: Environment, startedAt: Date): string {
  return [
    `## Benchmark: ${benchmark.name}`,
    '',
    benchmark.description,
    '',
    `Run ${startedAt.toISOString()} on ${env.cpu} (${env.cores} cores, ${env.memoryGiB} GiB), ` +
      `${env.platform}, Node ${env.node}; 1-min load average at start ${env.loadAverage}.`,
    '',
    result.method,
    '',
    ...result.tables.flatMap((table) => [markdownTable(table), '']),
    ...(result.notes.length > 0 ? ['Notes:', '', ...result.notes.map((note) => `- ${note}`), ''] : []),
  ].join('\n');
}

async function runBenchmark(load: () => Promise<Benchmark>): Promise<void> {
  const benchmark = await load();
  const log = (line: string): void => {
    process.stderr.write(`[${benchmark.name}] ${line}\n`);
  };
  const startedAt = new Date();
  const env = describeEnvironment(); // before the run, so the load average is other processes' alone
  log('starting');
  const result = await benchmark.run(log);
  const markdown = renderMarkdown(benchmark, result, env, startedAt);
  const json = { benchmark: benchmark.name, startedAt: startedAt.toISOString(), environment: env, ...result };
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL(`${benchmark.name}.json`, RESULTS_DIR), `${JSON.stringify(json, null, 2)}\n`);
  await writeFile(new URL(`${benchmark.name}.md`, RESULTS_DIR), markdown);
  log(`done in ${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s; wrote bench/results/${benchmark.name}.{json,md}`);
  process.stdout.write(`${markdown}\n`);
}

async function main(): Promise<void> {
  const requested = process.argv.slice(2);
  const known = BENCHMARKS.map((b) => b.name);
  const unknown = requested.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown benchmark: ${unknown.join(', ')}; available: ${known.join(', ')}`);
    process.exitCode = 2;
    return;
  }
  const selected = requested.length > 0 ? BENCHMARKS.filter((b) => requested.includes(b.name)) : BENCHMARKS;
  for (const { name, load } of selected) {
    try {
      await runBenchmark(load);
    } catch (error) {
      // One broken benchmark should not hide the others' figures; the exit code still tells.
      console.error(`[${name}] failed:`, error);
      process.exitCode = 1;
    }
  }
}

// Only when run as the program: benchmarks import helpers from this module, and importing it must
// not start every benchmark. Not a top-level await, for the same reason.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
