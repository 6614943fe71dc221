/**
 * A real SIP registrar/proxy for tests: Kamailio (Debian's 5.6) on loopback
 * with a minimal config written to a temporary folder.
 *
 * - REGISTER must pass digest auth (realm = the To domain, e.g. 127.0.0.1)
 *   with the password from `users` or else the shared `password`; the
 *   authentication user must be the registered user. Bindings live in memory.
 * - Other requests are not challenged: an INVITE (or MESSAGE, ...) for a
 *   registered user is relayed to its contact, record-routed, so in-dialog
 *   requests come through the proxy too; an unknown user gets 404.
 * - OPTIONS without a user is answered 200 (used to wait for readiness).
 * - With `wsPort`, SIP over WebSocket (xhttp + websocket modules) on
 *   ws://127.0.0.1:<wsPort>/, with the usual contact aliasing for WS clients.
 *
 * Needs the `kamailio` package, plus `kamailio-websocket-modules` for WS.
 */
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type RunningProcess } from '../child-process.js';
import { freePort } from '../free-port.js';

export const KAMAILIO_MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export interface KamailioOptions {
  udpPort?: number;
  /** TCP port; the UDP port when omitted (both on the same number). */
  tcpPort?: number;
  /** WebSocket port; no WS when omitted. */
  wsPort?: number;
  /** Passwords by user name. */
  users?: Record<string, string>;
  /** Password of every user not in `users` (default `switchboard`). */
  password?: string;
  /** Log level: 2 info (default), 3 debug. */
  debug?: number;
}

export interface Kamailio {
  udpPort: number;
  tcpPort: number;
  wsPort: number | undefined;
  /** `127.0.0.1:<udpPort>`: the domain and registrar of its users. */
  domain: string;
  password: string;
  configPath: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

export function websocketModulesInstalled(): boolean {
  return existsSync(join(KAMAILIO_MODULES, 'websocket.so'));
}

export async function startKamailio(options: KamailioOptions = {}): Promise<Kamailio> {
  const udpPort = options.udpPort ?? (await freePort());
  const tcpPort = options.tcpPort ?? udpPort;
  const wsPort = options.wsPort;
  if (wsPort !== undefined && !websocketModulesInstalled()) {
    throw new Error('Kamailio WebSocket support needs the kamailio-websocket-modules package');
  }
  const password = options.password ?? 'switchboard';
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-kamailio-'));
  const configPath = join(dir, 'kamailio.cfg');
  writeFileSync(configPath, kamailioConfig({ udpPort, tcpPort, wsPort, users: options.users ?? {}, password, debug: options.debug ?? 2 }));

  // -DD: stay in the foreground (children are still forked; SIGTERM to the main process ends them all).
  // -E: log to stderr. Small memory pools: a test proxy needs little.
  const child = startProcess('kamailio', ['-DD', '-E', '-f', configPath, '-m', '32', '-M', '4', '-Y', dir]);
  const stop = async () => {
    await child.stop();
    if (!process.env.SWITCHBOARD_KEEP_PEER_FILES) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForOptions(udpPort, child, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { udpPort, tcpPort, wsPort, domain: `127.0.0.1:${udpPort}`, password, configPath, process: child, stop };
}

/** Sends OPTIONS over UDP until Kamailio answers 200. */
export async function waitForOptions(port: number, child: RunningProcess, timeoutMs: number): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const localPort = socket.address().port;
  try {
    await new Promise<void>((resolve, reject) => {
      let attempt = 0;
      socket.on('message', (packet) => {
        if (/^SIP\/2\.0 200/.test(packet.toString('latin1'))) resolve();
      });
      const deadline = Date.now() + timeoutMs;
      const send = () => {
        if (child.child.exitCode !== null) return reject(new Error(`kamailio exited: ${child.output().slice(-3000)}`));
        if (Date.now() > deadline) return reject(new Error(`kamailio did not answer OPTIONS on ${port}: ${child.output().slice(-3000)}`));
        attempt++;
        const message = [
          `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bK-ready-${attempt};rport`,
          `From: <sip:probe@127.0.0.1:${localPort}>;tag=ready${attempt}`,
          `To: <sip:127.0.0.1:${port}>`,
          `Call-ID: ready-${localPort}-${attempt}@127.0.0.1`,
          `CSeq: ${attempt} OPTIONS`,
          'Max-Forwards: 70',
          'Content-Length: 0',
          '',
          '',
        ].join('\r\n');
        socket.send(message, port, '127.0.0.1');
        timer = setTimeout(send, 200);
      };
      let timer = setTimeout(send, 0);
      socket.once('close', () => clearTimeout(timer));
    });
  } finally {
    socket.close();
  }
}

function kamailioConfig(o: {
  udpPort: number;
  tcpPort: number;
  wsPort: number | undefined;
  users: Record<string, string>;
  password: string;
  debug: number;
}): string {
  const quote = (value: string) => `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const ws = o.wsPort !== undefined;
  const listens = [`listen=udp:127.0.0.1:${o.udpPort}`, `listen=tcp:127.0.0.1:${o.tcpPort}`];
  if (ws) listens.push(`listen=tcp:127.0.0.1:${o.wsPort}`);
  const users = Object.entries(o.users)
    .map(([user, password]) => `  $sht(users=>${user}) = ${quote(password)};`)
    .join('\n');
  return `#!KAMAILIO
# Written by test/support/sip/kamailio.ts for one test run.
debug=${o.debug}
log_stderror=yes
memdbg=5
memlog=5
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
tcp_accept_no_cl=yes
${listens.join('\n')}

mpath=${quote(KAMAILIO_MODULES)}
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "auth.so"
loadmodule "htable.so"
loadmodule "nathelper.so"
${ws ? 'loadmodule "xhttp.so"\nloadmodule "websocket.so"' : ''}

modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
modparam("htable", "htable", "users=>size=4;")
${ws ? 'modparam("websocket", "keepalive_mechanism", 0)' : ''}

event_route[htable:mod-init] {
  $var(loaded) = 1;
${users}
}

request_route {
  xlog("L_INFO", "SB $rm $ru from $si:$sp ($pr)\\n");
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "Keepalive"); exit; }
  if (proto == WS || proto == WSS) {
    force_rport();
    if (is_method("REGISTER")) { fix_nated_register(); } else { add_contact_alias(); }
  }
  if (has_totag()) {
    if (loose_route()) { handle_ruri_alias(); route(RELAY); exit; }
    if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) { route(RELAY); } exit; }
  t_check_trans();
  if (is_method("REGISTER")) { route(REGISTRAR); exit; }
  if (is_method("INVITE|SUBSCRIBE|REFER")) { record_route(); }
  if ($rU == $null) { sl_send_reply("484", "Address Incomplete"); exit; }
  if (!lookup("location")) { t_newtran(); t_reply("404", "Not Found"); exit; }
  handle_ruri_alias();
  route(RELAY);
}

route[REGISTRAR] {
  if ($sht(users=>$au) != $null) { $var(password) = $sht(users=>$au); } else { $var(password) = ${quote(o.password)}; }
  if (!pv_www_authenticate("$td", "$var(password)", "0")) {
    www_challenge("$td", "0");
    exit;
  }
  if ($au != $tU) { sl_send_reply("403", "Forbidden auth ID"); exit; }
  consume_credentials();
  if (!save("location")) { sl_reply_error(); }
  exit;
}

route[RELAY] {
  if (!t_relay()) { sl_reply_error(); }
  exit;
}
${
  ws
    ? `
# Replies from WebSocket clients (a 200 to an INVITE) get an alias in their Contact too, so
# in-dialog requests from the other side (ACK, BYE) reach them over their flow.
onreply_route {
  if (proto == WS || proto == WSS) { add_contact_alias(); }
}

event_route[xhttp:request] {
  if ($Rp != ${o.wsPort}) { xhttp_reply("403", "Forbidden", "", ""); exit; }
  if ($hdr(Upgrade) =~ "websocket" && $hdr(Connection) =~ "Upgrade" && $rm =~ "GET") {
    if (ws_handle_handshake()) { exit; }
  }
  xhttp_reply("404", "Not Found", "", "");
}
`
    : ''
}`;
}
