import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../child-process.js';
import { freePort } from '../free-port.js';

export interface RunningProsody {
  /** The VirtualHost (XMPP domain) users live on. */
  host: 'localhost';
  /** The c2s port on 127.0.0.1 (plain TCP, STARTTLS not offered: there is no certificate). */
  port: number;
  /** `xmpp://127.0.0.1:<port>` for @xmpp/client's `service`. */
  service: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A throw-away Prosody on loopback: config and data in a temp dir, free ports for c2s (and s2s,
 * which is disabled but would otherwise bind 5269), users registered with prosodyctl. `stop()`
 * ends exactly the process it started and removes the directory.
 */
export async function startProsody(options: { users: Record<string, string> }): Promise<RunningProsody> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-prosody-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    config,
    [
      'daemonize = false',
      'run_as_root = true',
      `pidfile = "${join(dir, 'prosody.pid')}"`,
      `data_path = "${join(dir, 'data')}"`,
      'interfaces = { "127.0.0.1" }',
      'local_interfaces = { "127.0.0.1" }',
      `c2s_ports = { ${port} }`,
      'c2s_interfaces = { "127.0.0.1" }',
      'modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix" }',
      'modules_disabled = { "s2s"; "http"; "tls" }',
      'authentication = "internal_plain"',
      'c2s_require_encryption = false',
      'allow_unencrypted_plain_auth = true',
      'log = { { levels = { min = "info" }, to = "console" } }',
      'VirtualHost "localhost"',
      '',
    ].join('\n'),
  );
  for (const [user, password] of Object.entries(options.users)) {
    execFileSync('prosodyctl', ['--config', config, 'register', user, 'localhost', password], { stdio: 'pipe' });
  }
  const proc = startProcess('prosody', ['--config', config, '-F']);
  try {
    await waitForPort(port, proc.output);
  } catch (error) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: 'localhost',
    port,
    service: `xmpp://127.0.0.1:${port}`,
    output: proc.output,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until the c2s port accepts TCP connections (Prosody logs no stable "ready" line). */
async function waitForPort(port: number, output: () => string, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`prosody did not listen on ${port}: ${output().slice(-2000)}`);
}
