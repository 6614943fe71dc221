/**
 * A real `switchboard` process (bin/switchboard.js, built by the global setup) as one node of a
 * cluster, with a config file of its own in a temporary folder: everything on loopback, the Redis
 * directory, fast heartbeats. `kill9()` is the crash the failure tests need; `stop()` ends it by
 * its PID (and, with workers, the primary takes its workers along).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ConfigInput } from '../../../src/config/load-config.js';
import { startProcess, type RunningProcess } from '../child-process.js';
import { LOOPBACK_NETWORKS, LOOPBACK_SIP_DIAL_PLAN } from '../test-gateway.js';
import { FAST_CLUSTER } from './in-process-nodes.js';

export interface GatewayProcessOptions {
  redisUrl: string;
  keyPrefix: string;
  nodeId: string;
  httpPort: number;
  /** Extra configuration merged over the defaults (sip, media, xmpp...). */
  config?: ConfigInput;
  /** `--workers N`. */
  workers?: number;
}

export interface GatewayProcess {
  nodeId: string;
  httpPort: number;
  process: RunningProcess;
  pid: number;
  /** SIGKILL: no drain, no goodbye in Redis. */
  kill9(): void;
  stop(): Promise<void>;
}

export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-node-'));
  const file = join(dir, 'switchboard.yaml');
  const extra = options.config ?? {};
  const config: ConfigInput = {
    ...extra,
    server: { host: '127.0.0.1', port: options.httpPort, drainTimeoutMs: 1000, ...extra.server },
    log: { level: (process.env.SWITCHBOARD_TEST_LOG as 'debug' | undefined) ?? 'info', ...extra.log },
    stun: { enabled: false, ...extra.stun },
    ice: { candidateNetworks: LOOPBACK_NETWORKS, ...extra.ice },
    media: { rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1', ...extra.media },
    sip: { enabled: false, host: '127.0.0.1', advertisedHost: '127.0.0.1', ...extra.sip, outbound: { dialPlan: LOOPBACK_SIP_DIAL_PLAN, ...extra.sip?.outbound } },
    directory: { kind: 'redis', redis: { url: options.redisUrl, keyPrefix: options.keyPrefix } },
    cluster: { nodeId: options.nodeId, ...FAST_CLUSTER, ...extra.cluster },
  };
  writeFileSync(file, stringify(config));
  const args = ['bin/switchboard.js', '--config', file, ...(options.workers ? ['--workers', String(options.workers)] : [])];
  const running = startProcess(process.execPath, args, { env: { PATH: process.env.PATH } });
  const cleanup = () => {
    if (!process.env.SWITCHBOARD_KEEP_PEER_FILES) rmSync(dir, { recursive: true, force: true });
  };
  try {
    // One "listening" line per process (each worker with --workers).
    for (let started = 0; started < (options.workers ?? 1); started++) {
      await running.waitFor(new RegExp(`(?:switchboard gateway listening[\\s\\S]*){${started + 1}}`), 20_000);
    }
  } catch (error) {
    await running.stop();
    cleanup();
    throw error;
  }
  return {
    nodeId: options.nodeId,
    httpPort: options.httpPort,
    process: running,
    pid: running.child.pid!,
    kill9: () => {
      if (running.child.exitCode === null && running.child.signalCode === null) process.kill(running.child.pid!, 'SIGKILL');
    },
    stop: async () => {
      await running.stop();
      cleanup();
    },
  };
}
