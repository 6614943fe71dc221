/**
 * A forked child process driven over IPC, for the media benchmark's two
 * children (the gateway, the plain UDP relay). Each child speaks the same
 * small protocol: it reports `{ type: 'ready', ... }` once set up, answers
 * commands with typed reports, and exits after `{ cmd: 'stop' }` (or when the
 * channel closes). Only the child forked here is ever killed, by its handle.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { withTimeout } from './gateway-process.js';

export interface ChildReport {
  type: string;
}

export interface FailedReport {
  type: 'failed';
  message: string;
}

export class IpcChild<Command extends { cmd: string }, Report extends ChildReport> {
  readonly #listeners = new Set<(report: Report) => void>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: Report) => {
      for (const listener of this.#listeners) listener(message);
    });
  }

  /**
   * Forks `module` and waits for its `ready` report. `execArgv` adds Node
   * flags (--expose-gc, --cpu-prof...); `env` is added to this process's.
   */
  static async fork<C extends { cmd: string }, R extends ChildReport>(
    module: URL,
    options: { label: string; execArgv?: string[]; env?: Record<string, string>; readyTimeoutMs?: number },
  ): Promise<{ child: IpcChild<C, R>; ready: Extract<R, { type: 'ready' }> }> {
    const forked = fork(module, [], {
      execArgv: options.execArgv ?? [],
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Without a listener a failed spawn or kill would throw; next() reports failures instead.
    forked.on('error', () => {});
    const child = new IpcChild<C, R>(forked);
    try {
      const ready = await child.next('ready', `${options.label} start`, options.readyTimeoutMs ?? 60_000);
      return { child, ready };
    } catch (error) {
      forked.kill('SIGKILL');
      throw error;
    }
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** How the child ended ("code 0", "signal SIGSEGV"), or undefined while it runs. */
  get exitStatus(): string | undefined {
    if (this.child.signalCode !== null) return `signal ${this.child.signalCode}`;
    return this.child.exitCode === null ? undefined : `code ${this.child.exitCode}`;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Every report, as it arrives (for unsolicited ones such as the gateway's tel offers). */
  onReport(listener: (report: Report) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next report of `type`; rejects if the child fails, exits, or stays silent for `ms`. */
  next<T extends Report['type']>(type: T, label: string, ms = 30_000): Promise<Extract<Report, { type: T }>> {
    let cleanup = (): void => {};
    const report = new Promise<Extract<Report, { type: T }>>((resolve, reject) => {
      const onReport = (message: Report): void => {
        if (message.type === type) resolve(message as Extract<Report, { type: T }>);
        else if (message.type === 'failed') reject(new Error(`${label}: ${(message as unknown as FailedReport).message}`));
      };
      const onExit = (code: number | null): void => reject(new Error(`child exited (${code}) during ${label}`));
      this.#listeners.add(onReport);
      this.child.once('exit', onExit);
      cleanup = () => {
        this.#listeners.delete(onReport);
        this.child.off('exit', onExit);
      };
    });
    return withTimeout(report, label, ms).finally(() => cleanup());
  }

  /** Sends over IPC; rejects (rather than emitting 'error') when the channel is gone. */
  send(command: Command): Promise<void> {
    if (this.exited || !this.child.connected) return Promise.reject(new Error('child process is gone'));
    return new Promise((resolve, reject) => this.child.send(command, (error) => (error ? reject(error) : resolve())));
  }

  /** Sends `command` and waits for the report of `type` that answers it (one request of a type at a time). */
  async request<T extends Report['type']>(command: Command, type: T, ms = 30_000): Promise<Extract<Report, { type: T }>> {
    const reply = this.next(type, command.cmd, ms);
    reply.catch(() => {}); // if the send fails, that error is the one reported
    await this.send(command);
    return reply;
  }

  /** Asks the child to stop (it may write a CPU profile on exit), then kills it if it does not. */
  async stop(ms = 20_000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      await this.send({ cmd: 'stop' } as Command);
      await withTimeout(exited, 'child stop', ms);
    } catch {
      this.child.kill('SIGKILL'); // through its handle: only the process we forked
      await withTimeout(exited, 'child kill', 10_000).catch(() => {});
    }
  }
}

/** Child side: sends a report, then runs `then` once it is flushed to the parent. */
export function reportToParent<R extends ChildReport>(message: R, then?: () => void): void {
  if (!process.send) {
    then?.();
    return;
  }
  process.send(message, undefined, {}, () => then?.());
}

/** True when `moduleUrl` is the process's main module (the file was forked, not imported). */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return entry !== undefined && pathToFileURL(entry).href === moduleUrl;
}
