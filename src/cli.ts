import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { signAccessToken } from './auth/access-token.js';
import { ConfigError, loadConfig } from './config/load-config.js';
import { Gateway } from './gateway.js';
import { ListenError } from './ops/listen-error.js';
import { workerConfig } from './cluster/worker-config.js';
import { superviseWorkers } from './cluster/worker-supervisor.js';
import { createLogger } from './logging/logger.js';

const USAGE = `Usage:
  switchboard [--config FILE] [--workers N]       start the gateway (N processes sharing the
                                                  HTTP port: cluster.workers, needs directory.kind redis)
  switchboard token USER [--ttl SECONDS] [--group NAME]... [--config FILE]
                                                  print an access token for USER (needs auth.secret),
                                                  in the groups named (dial plan and registration rules)
Configuration: a YAML/JSON file and SWITCHBOARD_* environment variables
(SWITCHBOARD_SERVER__PORT=9000 sets server.port). See README.md.`;

/** Entry point of the `switchboard` command; returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        ttl: { type: 'string' },
        group: { type: 'string', multiple: true },
        workers: { type: 'string' },
        // Internal: set by the primary of --workers for each worker it forks.
        'worker-index': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let config;
  try {
    config = loadConfig({ file: values.config, env: process.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`switchboard: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const [command, ...rest] = positionals;
  if (command === 'token') return printToken(config.auth, rest[0], values.ttl, values.group ?? []);
  if (command !== undefined) {
    process.stderr.write(`switchboard: unknown command "${command}"\n${USAGE}\n`);
    return 2;
  }
  const file = values.config;
  const workers = values.workers === undefined ? config.cluster.workers : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
    process.stderr.write('switchboard: --workers must be a whole number from 1 to 64\n');
    return 2;
  }
  if (workers > 1 && config.directory.kind !== 'redis') {
    process.stderr.write('switchboard: --workers above 1 needs the Redis directory (directory.kind: redis)\n');
    return 2;
  }
  if (workers > 1 && values['worker-index'] === undefined) {
    return superviseWorkers({ count: workers, args: argv, logger: createLogger({ level: config.log.level }).child({ component: 'workers' }) });
  }
  if (values['worker-index'] !== undefined) {
    const index = Number(values['worker-index']);
    // Unique per machine and start; a worker started again keeps its id, and other nodes see it restarted.
    const base = config.cluster.nodeId ?? `${hostname()}-${process.ppid}`;
    const load = () => workerConfig(loadConfig({ file, env: process.env }), index, workers, base);
    // The primary is gone (killed): this worker drains and stops rather than live on unsupervised.
    process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
    return runGateway(new Gateway(load(), { loadConfig: load }));
  }
  return runGateway(new Gateway(config, { loadConfig: () => loadConfig({ file, env: process.env }) }));
}

async function printToken(
  auth: { secret?: string | undefined; tokenTtlSeconds: number },
  user: string | undefined,
  ttl: string | undefined,
  groups: string[],
): Promise<number> {
  if (!auth.secret) {
    process.stderr.write('switchboard: auth.secret is not set, so there is nothing to sign tokens with\n');
    return 2;
  }
  if (!user) {
    process.stderr.write(`switchboard: token needs a user name\n${USAGE}\n`);
    return 2;
  }
  const ttlSeconds = ttl === undefined ? auth.tokenTtlSeconds : Number(ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) {
    process.stderr.write('switchboard: --ttl must be a positive whole number of seconds\n');
    return 2;
  }
  try {
    process.stdout.write(`${await signAccessToken({ secret: auth.secret, user, ttlSeconds, groups })}\n`);
  } catch (error) {
    process.stderr.write(`switchboard: ${(error as Error).message}\n`);
    return 2;
  }
  return 0;
}

async function runGateway(gateway: Gateway): Promise<number> {
  // Last resort: an exception that escapes a library callback (sip.js, node-datachannel, a timer)
  // would otherwise end the process and every call on it. Each one is logged with its stack and
  // counted (switchboard_uncaught_errors_total) so it gets fixed where it came from.
  process.on('uncaughtException', (error) => {
    gateway.metrics.uncaughtErrors.inc();
    gateway.logger.error({ err: error }, 'uncaught exception (the gateway goes on)');
  });
  process.on('unhandledRejection', (reason) => {
    gateway.metrics.uncaughtErrors.inc();
    gateway.logger.error({ err: reason }, 'unhandled rejection (the gateway goes on)');
  });
  try {
    await gateway.start();
  } catch (error) {
    if (error instanceof ListenError) {
      // The sentence says it all; the system error's own text would only repeat it.
      const { code, protocol, host, port, key, environmentVariable } = error;
      gateway.logger.fatal({ code, protocol, host, port, key, environmentVariable }, `cannot start: ${error.message}`);
    } else {
      gateway.logger.fatal({ err: error }, 'cannot start');
    }
    await gateway.stop().catch(() => {});
    return 1;
  }
  return new Promise<number>((resolve) => {
    let draining = false;
    let stopping = false;
    const stopNow = () => {
      if (stopping) return;
      stopping = true;
      gateway.stop().then(
        // node-datachannel's cleanup() is deliberately not called: with tracks that V8 has
        // collected it can crash (a segfault in Track::close, seen after many calls), and
        // process.exit ends its native threads anyway.
        () => resolve(0),
        (error: unknown) => {
          gateway.logger.error({ err: error }, 'stop failed');
          resolve(1);
        },
      );
    };
    // First SIGTERM/SIGINT: drain (calls go on up to server.drainTimeoutMs), then stop. A second one: stop now.
    const onSignal = (signal: string) => {
      if (draining) {
        gateway.logger.info({ signal }, 'second signal: stopping now');
        gateway.calls.hangupAll('shutdown');
        stopNow();
        return;
      }
      draining = true;
      gateway.logger.info({ signal }, 'stopping gracefully');
      gateway.drain().then(stopNow, stopNow);
    };
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    process.on('SIGHUP', () => {
      gateway.reload().catch((error: unknown) => gateway.logger.error({ err: error }, 'reload failed'));
    });
  });
}
