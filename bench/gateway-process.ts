/**
 * The gateway of the benchmarks, alone in a child process: its RSS is then
 * its own, without the benchmark clients' memory, and its event loop does not
 * share a thread with the one driving 10k client sockets.
 *
 * This file is both sides of that arrangement:
 * - run as a forked child (its main module), it starts a gateway and speaks
 *   IPC: `{ type: 'ready', httpPort, pid }` once listening; it answers
 *   `{ cmd: 'stats' }` with memory and CPU usage, and stops on `{ cmd: 'stop' }`;
 * - imported by a benchmark, it gives `GatewayProcess`, the parent's handle.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { validateConfig } from '../src/config/load-config.js';
import { Gateway } from '../src/gateway.js';
import { createSilentLogger } from '../src/logging/logger.js';

export type GatewayCommand = { cmd: 'stats' } | { cmd: 'stop' };

export interface GatewayStats {
  memory: NodeJS.MemoryUsage;
  /** Cumulative CPU time of the gateway process, microseconds. */
  cpu: NodeJS.CpuUsage;
}

export type GatewayReport =
  | { type: 'ready'; httpPort: number; pid: number }
  | ({ type: 'stats' } & GatewayStats)
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

/** Rejects with a message naming `label` if `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, label: string, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- parent side

/** A forked gateway: start, read its memory/CPU, stop. Only this child is ever killed. */
export class GatewayProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly httpPort: number,
    readonly pid: number,
  ) {}

  static async start(): Promise<GatewayProcess> {
    const child = fork(new URL(import.meta.url), [], {
      execArgv: ['--expose-gc'], // the child collects garbage before each memory reading
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Without a listener, a failed spawn or kill would throw here; #next and #send report failures instead.
    child.on('error', () => {});
    try {
      const ready = await GatewayProcess.#next(child, 'ready', 'gateway start');
      return new GatewayProcess(child, ready.httpPort, ready.pid);
    } catch (error) {
      child.kill('SIGKILL');
      throw error;
    }
  }

  /** The next report of `type` from the child; rejects if it fails or exits first. */
  static #next<T extends GatewayReport['type']>(
    child: ChildProcess,
    type: T,
    label: string,
  ): Promise<Extract<GatewayReport, { type: T }>> {
    let cleanup = (): void => {};
    const report = new Promise<Extract<GatewayReport, { type: T }>>((resolve, reject) => {
      const onMessage = (message: GatewayReport): void => {
        if (message.type === type) resolve(message as Extract<GatewayReport, { type: T }>);
        else if (message.type === 'failed') reject(new Error(`gateway process: ${message.message}`));
      };
      const onExit = (code: number | null): void => reject(new Error(`gateway process exited (${code}) during ${label}`));
      const onError = (error: Error): void => reject(new Error(`gateway process: ${error.message} during ${label}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.once('error', onError);
      cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        child.off('error', onError);
      };
    });
    return withTimeout(report, label).finally(() => cleanup());
  }

  get #exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Sends over IPC; rejects (rather than emitting 'error') if the channel is gone. */
  #send(command: GatewayCommand): Promise<void> {
    if (this.#exited || !this.child.connected) return Promise.reject(new Error('gateway process is gone'));
    return new Promise((resolve, reject) => this.child.send(command, (error) => (error ? reject(error) : resolve())));
  }

  async stats(): Promise<GatewayStats> {
    const reply = GatewayProcess.#next(this.child, 'stats', 'gateway stats');
    reply.catch(() => {}); // if the send fails, that error is the one reported
    await this.#send({ cmd: 'stats' });
    const { memory, cpu } = await reply;
    return { memory, cpu };
  }

  async stop(): Promise<void> {
    if (this.#exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.#send({ cmd: 'stop' });
      await withTimeout(exited, 'gateway stop', 10_000);
    } catch {
      this.child.kill('SIGKILL'); // through its handle: only the process we forked
      await withTimeout(exited, 'gateway kill', 10_000);
    }
  }
}

// ---------------------------------------------------------------- child side

function report(message: GatewayReport, then?: () => void): void {
  process.send?.(message, undefined, {}, () => then?.());
}

async function childMain(): Promise<void> {
  if (!process.send) throw new Error('this file is started by GatewayProcess.start() (it needs an IPC channel)');
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    stun: { host: '127.0.0.1', port: 0 },
    // As in the tests: only loopback candidates pass, so the relay runs the
    // same per-candidate filter a production deployment with networks would.
    ice: { candidateNetworks: ['127.0.0.0/8', '::1'] },
    log: { level: 'silent' },
    // Not measured here, and enabled by default it would listen on 0.0.0.0:5060 (UDP, TCP).
    sip: { enabled: false },
    // signaling.rateLimit stays at its default on purpose: the benchmark
    // measures the gateway as deployed, and paces its calls to fit. The
    // connection limits do not: every simulated browser comes from 127.0.0.1,
    // where in production each would be its own source.
    signaling: { maxConnections: 0, maxConnectionsPerSource: 1_000_000, maxPendingLoginsPerSource: 1_000_000 },
  });
  const gateway = new Gateway(config, { logger: createSilentLogger() });
  const { httpPort } = await gateway.start();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= gateway.stop());

  process.on('message', (command: GatewayCommand) => {
    if (command.cmd === 'stats') {
      // A full collection first (the parent forks with --expose-gc), so
      // heapUsed counts live objects rather than garbage awaiting the next GC.
      globalThis.gc?.();
      report({ type: 'stats', memory: process.memoryUsage(), cpu: process.cpuUsage() });
    } else if (command.cmd === 'stop') {
      stop().then(
        () => report({ type: 'stopped' }, () => process.exit(0)),
        (error: unknown) => report({ type: 'failed', message: String(error) }, () => process.exit(1)),
      );
    }
  });
  // The parent died or closed the channel: do not linger holding a port.
  process.on('disconnect', () => {
    void stop().finally(() => process.exit(0));
  });
  report({ type: 'ready', httpPort, pid: process.pid });
}

const isChildEntry = process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === import.meta.url;
if (isChildEntry) {
  childMain().catch((error: unknown) => {
    if (!process.send) {
      console.error(error);
      process.exit(1);
    }
    report({ type: 'failed', message: error instanceof Error ? error.message : String(error) }, () => process.exit(1));
  });
}
