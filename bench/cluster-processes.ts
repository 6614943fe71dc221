/**
 * What the cluster benchmark runs: a Redis (redis-server on loopback, nothing on disk) and the
 * real `switchboard` command (bin/switchboard.js) as one process or as `--workers N`, with a
 * config file of its own, so the figures are those of the shipped CLI. Stopped by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { ConfigInput } from '../src/config/load-config.js';
import { withTimeout } from './gateway-process.js';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));

export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when `child`'s output has matched `pattern` `times` times. */
function waitForOutput(child: ChildProcess, pattern: RegExp, times: number, label: string): Promise<void> {
  let seen = 0;
  let text = '';
  return withTimeout(
    new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        text += chunk.toString();
        seen = (text.match(new RegExp(pattern.source, 'g')) ?? []).length;
        if (seen >= times) resolve();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => reject(new Error(`${label} exited (${code}): ${text.slice(-2000)}`)));
    }),
    label,
    30_000,
  );
}

export class BenchRedis {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  static async start(): Promise<BenchRedis> {
    const port = await freeTcpPort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    await waitForOutput(child, /Ready to accept connections/, 1, 'redis-server');
    return new BenchRedis(child, `redis://127.0.0.1:${port}`);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** The switchboard CLI with `workers` processes; `pids` are the gateway processes (the workers, or the one process). */
export class SwitchboardProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly httpPort: number,
    readonly workers: number,
  ) {}

  /** Starts it; `ready` is polled until true (the HTTP port answers, every worker beats in Redis). */
  static async start(options: { workers: number; config: ConfigInput; ready: () => Promise<boolean> }): Promise<SwitchboardProcess> {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
    const file = join(dir, 'switchboard.yaml');
    writeFileSync(file, stringify(options.config));
    const args = [BIN, '--config', file, ...(options.workers > 1 ? ['--workers', String(options.workers)] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH } });
    // Its output (only errors at the benchmark's log level) goes to ours; a full pipe would stall it.
    for (const stream of [child.stdout, child.stderr]) stream?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
    const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`switchboard exited (${code}) while starting`))));
    exited.catch(() => {});
    await withTimeout(
      Promise.race([
        exited,
        (async () => {
          while (!(await options.ready().catch(() => false))) await new Promise((resolve) => setTimeout(resolve, 200));
        })(),
      ]),
      'switchboard start',
      30_000,
    );    return new SwitchboardProcess(child, dir, Number(options.config?.server?.port), options.workers);
  }

  /** The processes that run gateways: with workers, the primary's children. */
  get pids(): number[] {
    const pid = this.child.pid!;
    if (this.workers === 1) return [pid];
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
