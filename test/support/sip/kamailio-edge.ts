/**
 * The cluster's SIP edge for tests: Debian's Kamailio running the very config the project ships
 * (docker/kamailio/kamailio-cluster.cfg), its settings from the environment, its dispatcher list
 * (the gateway nodes' SIP ports) written to a temporary folder, probing every second.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startProcess, type RunningProcess } from '../child-process.js';
import { KAMAILIO_MODULES, waitForOptions } from './kamailio.js';
import { allocatePort } from './ports.js';

export const EDGE_CONFIG = resolve(import.meta.dirname, '../../../docker/kamailio/kamailio-cluster.cfg');

export interface KamailioEdge {
  port: number;
  /** `127.0.0.1:<port>`: the users' domain and the address phones and nodes send to. */
  domain: string;
  /** The phones' shared password. */
  phonePassword: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

export async function startKamailioEdge(options: { nodeSipPorts: number[]; phonePassword?: string }): Promise<KamailioEdge> {
  const port = await allocatePort();
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-edge-'));
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, options.nodeSipPorts.map((nodePort) => `1 sip:127.0.0.1:${nodePort}\n`).join(''));
  const phonePassword = options.phonePassword ?? 'phone-secret';
  const child = startProcess('kamailio', ['-DD', '-E', '-f', EDGE_CONFIG, '-L', KAMAILIO_MODULES, '-m', '32', '-M', '4', '-Y', dir], {
    env: {
      PATH: process.env.PATH,
      SB_LISTEN: '127.0.0.1',
      SB_PORT: String(port),
      SB_DOMAIN: `127.0.0.1:${port}`,
      SB_DISPATCHER_LIST: list,
      SB_PROBE_SECONDS: '1',
      SB_PHONE_PASSWORD: phonePassword,
      SB_DEBUG: process.env.SWITCHBOARD_KAMAILIO_DEBUG ? '3' : '2',
    },
  });
  const stop = async () => {
    await child.stop();
    if (!process.env.SWITCHBOARD_KEEP_PEER_FILES) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForOptions(port, child, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, domain: `127.0.0.1:${port}`, phonePassword, process: child, stop };
}
