import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../logging/logger.js';

export interface WorkerSupervisorOptions {
  count: number;
  /** The command line each worker runs (the CLI's own arguments); `--worker-index i` is added. */
  args: string[];
  logger: Logger;
}

/** A worker that exits is started again after this, doubling up to the maximum while it keeps failing. */
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 30_000;
/** A worker that ran this long was healthy: its next restart waits the minimum again. */
const HEALTHY_AFTER_MS = 60_000;

/**
 * The primary process of `switchboard --workers N`: forks N gateway workers with Node's cluster
 * module (they share the HTTP/WebSocket listener: the primary accepts connections and hands them
 * out in turn), starts a worker again when it dies, and passes signals on: SIGTERM drains every
 * worker (a second one stops them at once), SIGHUP reloads them; SIGINT (Ctrl-C) reaches the
 * workers from the terminal itself. Resolves with 0 once every
 * worker has exited after a stop.
 */
export function superviseWorkers(options: WorkerSupervisorOptions): Promise<number> {
  const { count, args, logger } = options;
  const workers = new Map<number, Worker>();
  const delays = new Map<number, number>();
  let stopping = false;

  return new Promise<number>((resolve) => {
    const fork = (index: number) => {
      cluster.setupPrimary({ args: [...args, '--worker-index', String(index)] });
      const worker = cluster.fork();
      const startedAt = Date.now();
      workers.set(index, worker);
      logger.info({ worker: index, pid: worker.process.pid }, 'worker started');
      worker.on('exit', (code, signal) => {
        workers.delete(index);
        if (stopping) {
          logger.info({ worker: index, code, signal }, 'worker stopped');
          if (workers.size === 0) resolve(0);
          return;
        }
        const healthy = Date.now() - startedAt >= HEALTHY_AFTER_MS;
        const delay = healthy ? RESTART_MIN_MS : Math.min((delays.get(index) ?? RESTART_MIN_MS / 2) * 2, RESTART_MAX_MS);
        delays.set(index, delay);
        logger.error({ worker: index, code, signal, restartInMs: delay }, 'worker exited; starting it again');
        setTimeout(() => {
          if (!stopping) fork(index);
        }, delay);
      });
    };
    for (let index = 0; index < count; index++) fork(index);

    const signalAll = (signal: NodeJS.Signals) => {
      for (const worker of workers.values()) worker.process.kill(signal);
    };
    const stop = (signal: NodeJS.Signals, forward: boolean) => {
      stopping = true;
      logger.info({ signal, workers: workers.size }, 'stopping workers');
      // A second signal is passed on too: each worker then stops at once.
      if (forward) signalAll('SIGTERM');
      if (workers.size === 0) resolve(0);
    };
    process.on('SIGTERM', () => stop('SIGTERM', true));
    // Ctrl-C in a terminal signals the whole process group: the workers have it already, and a
    // second signal from here would cut their drain short.
    process.on('SIGINT', () => stop('SIGINT', false));
    process.on('SIGHUP', () => signalAll('SIGHUP'));
  });
}
