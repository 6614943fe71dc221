import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess } from '../child-process.js';
import { freePort } from '../free-port.js';

export interface ProsodyOptions {
  users: Record<string, string>;
  /** XMPP over WebSocket (RFC 7395, Prosody's mod_websocket) on a free loopback HTTP port. */
  websocket?: boolean;
  /** Message Carbons (XEP-0280, mod_carbons): other resources of an account get copies of chat messages. */
  carbons?: boolean;
  /** XEP-0198 stream management (mod_smacks): clients may enable acks and resumption. */
  streamManagement?: boolean;
  /** mod_smacks `smacks_hibernation_time`: how long a dropped stream may be resumed (Prosody's default 600 s). */
  resumeSeconds?: number;
  /** An external component (XEP-0114) for `domain`, authenticating with `secret`, on a free loopback port. */
  component?: { domain: string; secret: string };
  /**
   * XEP-0215 external services (mod_turn_external): a `stun` and a `turn` entry for this server,
   * the TURN one with time-limited credentials derived from `secret` (TURN REST, as coturn's
   * `use-auth-secret` expects).
   */
  externalServices?: { secret: string; host: string; port: number };
}

export interface RunningProsody {
  /** The VirtualHost (XMPP domain) users live on. */
  host: 'localhost';
  /** The c2s port on 127.0.0.1 (plain TCP, STARTTLS not offered: there is no certificate). */
  port: number;
  /** `xmpp://127.0.0.1:<port>` for @xmpp/client's `service`. */
  service: string;
  /** `ws://127.0.0.1:<http port>/xmpp-websocket`, only with `websocket: true`. */
  websocketUrl?: string;
  /** `xmpp://127.0.0.1:<component port>`, only with `component`. */
  componentService?: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * A throw-away Prosody on loopback: config and data in a temp dir, free ports for c2s (and s2s,
 * which is disabled but would otherwise bind 5269), users registered with prosodyctl. `stop()`
 * ends exactly the process it started and removes the directory.
 */
export async function startProsody(options: ProsodyOptions): Promise<RunningProsody> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-prosody-'));
  mkdirSync(join(dir, 'data'));
  const port = await freePort();
  const httpPort = options.websocket ? await freePort() : undefined;
  const componentPort = options.component ? await freePort() : undefined;
  const config = join(dir, 'prosody.cfg.lua');
  writeFileSync(config, prosodyConfig({ dir, port, httpPort, componentPort, ...options }));
  for (const [user, password] of Object.entries(options.users)) {
    execFileSync('prosodyctl', ['--config', config, 'register', user, 'localhost', password], { stdio: 'pipe' });
  }
  const proc = startProcess('prosody', ['--config', config, '-F']);
  try {
    await waitForPort(port, proc.output);
    if (httpPort) await waitForPort(httpPort, proc.output);
    if (componentPort) await waitForPort(componentPort, proc.output);
  } catch (error) {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    host: 'localhost',
    port,
    service: `xmpp://127.0.0.1:${port}`,
    websocketUrl: httpPort ? `ws://127.0.0.1:${httpPort}/xmpp-websocket` : undefined,
    componentService: componentPort ? `xmpp://127.0.0.1:${componentPort}` : undefined,
    output: proc.output,
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function prosodyConfig(options: ProsodyOptions & { dir: string; port: number; httpPort?: number; componentPort?: number }): string {
  const { dir, port, httpPort, externalServices, component, componentPort } = options;
  const modules = ['roster', 'saslauth', 'disco', 'ping', 'posix'];
  if (httpPort) modules.push('websocket');
  if (options.carbons) modules.push('carbons');
  if (options.streamManagement) modules.push('smacks');
  if (externalServices) modules.push('turn_external');
  // mod_http only where WebSocket needs it; otherwise it would take the default ports 5280/5281.
  const disabled = httpPort ? ['s2s', 'tls'] : ['s2s', 'http', 'tls'];
  const list = (names: string[]) => names.map((name) => `"${name}"`).join('; ');
  const lines = [
    'daemonize = false',
    'run_as_root = true',
    `pidfile = "${join(dir, 'prosody.pid')}"`,
    `data_path = "${join(dir, 'data')}"`,
    'interfaces = { "127.0.0.1" }',
    'local_interfaces = { "127.0.0.1" }',
    `c2s_ports = { ${port} }`,
    'c2s_interfaces = { "127.0.0.1" }',
    `modules_enabled = { ${list(modules)} }`,
    `modules_disabled = { ${list(disabled)} }`,
    'authentication = "internal_plain"',
    'c2s_require_encryption = false',
    'allow_unencrypted_plain_auth = true',
    'log = { { levels = { min = "info" }, to = "console" } }',
  ];
  if (httpPort) {
    lines.push(
      `http_ports = { ${httpPort} }`,
      'http_interfaces = { "127.0.0.1" }',
      // No certificate, so no HTTPS listener (it would otherwise try 5281).
      'https_ports = { }',
      // Browsers connect to 127.0.0.1, not to the VirtualHost's name: serve it anyway.
      'http_default_host = "localhost"',
      // There is no TLS on loopback: let WebSocket sessions count as secure, as c2s ones do here.
      'consider_websocket_secure = true',
      // The page that opens the socket comes from another origin (its own loopback port). Prosody
      // 0.12 only logs this option as deprecated (mod_http's CORS default already allows any
      // origin); it still matters for 0.11, which Debian oldstable ships.
      'cross_domain_websocket = true',
    );
  }
  if (externalServices) {
    lines.push(
      `turn_external_secret = "${externalServices.secret}"`,
      `turn_external_host = "${externalServices.host}"`,
      `turn_external_port = ${externalServices.port}`,
    );
  }
  if (options.resumeSeconds !== undefined) lines.push(`smacks_hibernation_time = ${options.resumeSeconds}`);
  if (componentPort) lines.push(`component_ports = { ${componentPort} }`, 'component_interfaces = { "127.0.0.1" }');
  lines.push('VirtualHost "localhost"');
  if (component) lines.push(`Component "${component.domain}"`, `  component_secret = "${component.secret}"`);
  lines.push('');
  return lines.join('\n');
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
