import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, type RunningProcess } from '../child-process.js';
import { speechLikeWav } from './speech-like-wav.js';
import { xwdToPng } from './xwd-to-png.js';

const run = promisify(execFile);

/** The XMPP domain of the lab; `.test` is reserved (RFC 2606), and Dino resolves it through the lab's own /etc/hosts. */
export const DINO_DOMAIN = 'dino.test';
export const COMPONENT_DOMAIN = `gw.${DINO_DOMAIN}`;
const DINO_USER = 'romeo';
const DINO_PASSWORD = 'romeo-secret';
/** Prosody's component port, inside the lab's namespace (so no other process can hold it). */
const COMPONENT_PORT = 5347;

/**
 * A real Dino (Debian `dino-im` 0.4.2) for end-to-end tests, with everything it needs and nothing
 * outside the lab (learnt in issue #20, see PEERS.md):
 * - Dino's libnice ignores loopback, so Dino runs in a network namespace the lab creates, joined
 *   to the host by a closed veth pair on 198.18.<n>.0/24 (benchmarking range): host side .1,
 *   Dino .2, no route anywhere else.
 * - Dino insists on STARTTLS with a certificate it trusts and looks the domain up itself (port
 *   5222 without SRV): Prosody gets a certificate from a throw-away CA and runs inside the
 *   namespace (c2s on its loopback, so the host's 5222 does not matter; the component port on
 *   198.18.<n>.2 for the gateway); Dino runs in its own mount namespace where the system CA
 *   bundle and /etc/hosts are bind-mounted with the lab's (the host's files are untouched).
 * - Dino's account is written into its SQLite database (made by a first start), its roster
 *   (alice@gw.dino.test, subscription both) into Prosody's store.
 * - Xvfb, a private D-Bus session bus (Dino's GApplication actions `accept-call` and
 *   `open-conversation` are driven through it instead of clicks) and a private PulseAudio: Dino
 *   skips monitor sources (plugins/rtp/src/plugin.vala:50 at dino/dino 45723ac), so its
 *   microphone is a remap source over a null sink that plays a speech-like signal (its voice
 *   processing gates silence and steady tones); what Dino plays goes to a null sink `speaker`
 *   whose monitor the test records.
 * `stop()` ends every process it started (by PID) and removes the namespace, the veth pair and
 * the temporary directory.
 */
export class RealDinoLab {
  readonly #processes: RunningProcess[] = [];
  readonly #cleanups: (() => unknown)[] = [];

  private constructor(
    readonly dir: string,
    /** The third octet of the lab's 198.18.<n>.0/24. */
    readonly subnet: number,
    readonly namespace: string,
  ) {}

  get hostAddress(): string {
    return `198.18.${this.subnet}.1`;
  }

  /** Dino's side of the veth pair, where Prosody's component port also listens. */
  get dinoAddress(): string {
    return `198.18.${this.subnet}.2`;
  }

  get network(): string {
    return `198.18.${this.subnet}.0/24`;
  }

  get dinoJid(): string {
    return `${DINO_USER}@${DINO_DOMAIN}`;
  }

  prosody!: RunningProcess;
  componentService!: string;
  readonly #env: Record<string, string> = {};
  #dino: RunningProcess | undefined;

  /** Namespace, certificates, Prosody, X, D-Bus and PulseAudio; then `startDino()`. */
  static async start(options: { contacts: string[] }): Promise<RealDinoLab> {
    const subnet = await claimSubnet();
    const lab = new RealDinoLab(mkdtempSync(join(tmpdir(), 'switchboard-dino-')), subnet, namespaceFor(subnet));
    lab.#cleanups.push(() => run('ip', ['netns', 'del', lab.namespace]).catch(() => {}));
    try {
      await lab.#network();
      lab.#certificates();
      await lab.#startProsody(options.contacts);
      await lab.#startDesktop();
      return lab;
    } catch (error) {
      await lab.stop();
      throw error;
    }
  }

  /** The veth pair into the namespace `claimSubnet` made: host side .1, Dino's side .2. */
  async #network(): Promise<void> {
    const { namespace, subnet } = this;
    const host = `sbd${subnet}h`;
    const inside = `sbd${subnet}d`;
    await run('ip', ['link', 'add', host, 'type', 'veth', 'peer', 'name', inside]);
    this.#cleanups.push(() => run('ip', ['link', 'del', host]).catch(() => {}));
    await run('ip', ['link', 'set', inside, 'netns', namespace]);
    await run('ip', ['addr', 'add', `${this.hostAddress}/24`, 'dev', host]);
    await run('ip', ['link', 'set', host, 'up']);
    const inNs = (...args: string[]) => run('ip', ['netns', 'exec', namespace, 'ip', ...args]);
    await inNs('addr', 'add', `198.18.${subnet}.2/24`, 'dev', inside);
    await inNs('link', 'set', inside, 'up');
    await inNs('link', 'set', 'lo', 'up');
  }

  #certificates(): void {
    const { dir } = this;
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Switchboard test CA');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', `/CN=${DINO_DOMAIN}`);
    writeFileSync(join(dir, 'server.ext'), `subjectAltName=DNS:${DINO_DOMAIN},DNS:*.${DINO_DOMAIN}\nextendedKeyUsage=serverAuth\n`);
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'server.ext');
    // Prosody drops root privileges for nothing here (run_as_root), but reads the key as itself.
    chmodSync(join(dir, 'server.key'), 0o644);
    // Dino's view of the system: the usual CA bundle plus the lab's CA, and a hosts file naming the lab's server.
    writeFileSync(join(dir, 'ca-bundle.crt'), execFileSync('cat', ['/etc/ssl/certs/ca-certificates.crt', join(dir, 'ca.pem')]));
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost ${DINO_DOMAIN}\n`);
  }

  async #startProsody(contacts: string[]): Promise<void> {
    const { dir } = this;
    mkdirSync(join(dir, 'prosody-data'));
    const config = join(dir, 'prosody.cfg.lua');
    writeFileSync(
      config,
      [
        'daemonize = false',
        'run_as_root = true',
        `pidfile = "${join(dir, 'prosody.pid')}"`,
        `data_path = "${join(dir, 'prosody-data')}"`,
        // Prosody runs inside Dino's namespace: Dino connects to the domain on 5222 (no SRV record
        // in the lab), and that port is the namespace's own, whatever listens on the host's 5222.
        `interfaces = { "127.0.0.1", "${this.dinoAddress}" }`,
        'local_interfaces = { "127.0.0.1" }',
        'c2s_ports = { 5222 }',
        'c2s_interfaces = { "127.0.0.1" }',
        // The gateway, on the host, reaches the component port over the veth pair.
        `component_ports = { ${COMPONENT_PORT} }`,
        `component_interfaces = { "${this.dinoAddress}" }`,
        'modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix"; "carbons"; "private"; "vcard" }',
        'modules_disabled = { "s2s"; "http" }',
        'authentication = "internal_plain"',
        'c2s_require_encryption = true',
        'log = { { levels = { min = "info" }, to = "console" } }',
        `certificates = "${dir}"`,
        `ssl = { certificate = "${join(dir, 'server.crt')}"; key = "${join(dir, 'server.key')}" }`,
        `VirtualHost "${DINO_DOMAIN}"`,
        `Component "${COMPONENT_DOMAIN}"`,
        '  component_secret = "component-secret"',
        '',
      ].join('\n'),
    );
    execFileSync('prosodyctl', ['--config', config, 'register', DINO_USER, DINO_DOMAIN, DINO_PASSWORD], { stdio: 'pipe' });
    // Dino's roster, as if it had subscribed: Prosody probes these contacts when Dino logs in.
    const rosterDir = join(dir, 'prosody-data', DINO_DOMAIN.replace(/\./g, '%2e'), 'roster');
    mkdirSync(rosterDir, { recursive: true });
    const items = contacts.map((jid) => `  ["${jid}"] = { subscription = "both"; groups = {}; name = "${jid.split('@')[0]}"; };`);
    writeFileSync(join(rosterDir, `${DINO_USER}.dat`), ['return {', '  [false] = { version = 1; pending = {}; };', ...items, '};', ''].join('\n'));
    this.prosody = this.#start('ip', ['netns', 'exec', this.namespace, 'prosody', '--config', config, '-F']);
    await this.prosody.waitFor(/Activated service 'c2s' on \[/, 10_000);
    await this.prosody.waitFor(/Activated service 'component' on \[/, 10_000);
    this.componentService = `xmpp://${this.dinoAddress}:${COMPONENT_PORT}`;
  }

  async #startDesktop(): Promise<void> {
    const { dir, subnet } = this;
    const home = join(dir, 'home');
    mkdirSync(home);
    const display = `:${subnet}`;
    const xvfb = this.#start('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-fbdir', dir]);
    const bus = this.#start('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${join(dir, 'bus')}`]);
    const busAddress = (await bus.waitFor(/unix:path=[^\s]+/, 10_000)).trim();
    const pulseSocket = join(dir, 'pulse.sock');
    this.#start(
      'pulseaudio',
      [
        '-n',
        '--daemonize=no',
        '--exit-idle-time=-1',
        '--disallow-exit',
        '--log-target=stderr',
        `--load=module-native-protocol-unix auth-anonymous=1 socket=${pulseSocket}`,
        '--load=module-null-sink sink_name=mic_feed',
        '--load=module-null-sink sink_name=speaker',
        // A monitor would be skipped by Dino: a remap source over it is a device of class "filter".
        '--load=module-remap-source master=mic_feed.monitor source_name=mic',
      ],
      { HOME: home },
    );
    Object.assign(this.#env, { HOME: home, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: busAddress, PULSE_SERVER: `unix:${pulseSocket}`, GSETTINGS_BACKEND: 'memory' });
    await waitUntil(() => existsSync(join(dir, 'Xvfb_screen0')) && xvfb.child.exitCode === null, 'Xvfb', 10_000);
    await waitUntil(() => this.pactl('info').then(() => true, () => false), 'PulseAudio', 10_000);
    await this.pactl('set-default-sink', 'speaker');
    await this.pactl('set-default-source', 'mic');
    writeFileSync(join(dir, 'speech.wav'), speechLikeWav(16_000, 120));
    this.#start('paplay', ['--device=mic_feed', join(dir, 'speech.wav')], this.#env);
  }

  /** The environment of the lab's desktop: its X display, D-Bus session and PulseAudio. */
  get desktopEnv(): Record<string, string> {
    return { ...this.#env };
  }

  pactl(...args: string[]): Promise<string> {
    return run('pactl', args, { env: { ...process.env, ...this.#env } }).then((result) => result.stdout);
  }

  /** Dino with the lab's account, logged in (Prosody saw it authenticate). */
  async startDino(options: { openChats?: string[] } = {}): Promise<void> {
    const database = join(this.#env.HOME!, '.local/share/dino/dino.db');
    // A first start makes the database (its schema is Dino's business); then the account goes in.
    const first = this.#startDinoProcess();
    await waitUntil(() => this.sql(database, "select count(*) from sqlite_master where name = 'account'").then((n) => n === '1', () => false), 'Dino database', 20_000);
    await first.stop();
    await this.sql(database, `insert into account (bare_jid, resourcepart, password, alias, enabled) values ('${this.dinoJid}', 'dino.lab', '${DINO_PASSWORD}', 'romeo', 1)`);
    // Open chats (conversation type 0), so `open-conversation` can show one without the UI.
    const now = Math.floor(Date.now() / 1000);
    for (const jid of options.openChats ?? []) {
      await this.sql(database, `insert or ignore into jid (bare_jid) values ('${jid}')`);
      await this.sql(
        database,
        `insert into conversation (account_id, jid_id, active, active_last_changed, last_active, type, encryption, read_up_to_item, notification, send_typing, send_marker, pinned) select 1, id, 1, ${now}, ${now}, 0, 0, -1, 0, 0, 0, 0 from jid where bare_jid = '${jid}'`,
      );
    }
    this.#dino = this.#startDinoProcess();
    await this.prosody.waitFor(new RegExp(`Authenticated as ${this.dinoJid.replace(/\./g, '\\.')}`), 30_000);
  }

  #startDinoProcess(): RunningProcess {
    const script = join(this.dir, 'run-dino.sh');
    writeFileSync(
      script,
      [
        '#!/bin/sh',
        'set -e',
        'mount --make-rprivate /',
        `mount --bind ${join(this.dir, 'ca-bundle.crt')} /etc/ssl/certs/ca-certificates.crt`,
        `mount --bind ${join(this.dir, 'hosts')} /etc/hosts`,
        'exec dino-im --print-xmpp=all',
        '',
      ].join('\n'),
    );
    chmodSync(script, 0o755);
    // ip netns exec and unshare exec in turn, and so does the script: the PID is Dino's own.
    return this.#start('ip', ['netns', 'exec', this.namespace, 'unshare', '-m', script], this.#env);
  }

  get dinoOutput(): string {
    return this.#dino?.output() ?? '';
  }

  /** Dino's database: the calls and conversations it knows. */
  async sql(database: string, query: string): Promise<string> {
    const { stdout } = await run('sqlite3', [database, query]);
    return stdout.trim();
  }

  get database(): string {
    return join(this.#env.HOME!, '.local/share/dino/dino.db');
  }

  /** A GApplication action of Dino over its D-Bus session (`org.gtk.Actions.Activate`). */
  async dinoAction(name: string, parameter: string): Promise<void> {
    await run('gdbus', ['call', '--session', '--dest', 'im.dino.Dino', '--object-path', '/im/dino/Dino', '--method', 'org.gtk.Actions.Activate', name, `[${parameter}]`, '{}'], {
      env: { ...process.env, ...this.#env },
    });
  }

  /**
   * Dino starts an audio call to `jid` (an open chat, see `startDino`): the chat is shown through
   * the `open-conversation` action, then the titlebar's call button (a GtkMenuButton whose tooltip is
   * "Start call", main/src/ui/conversation_titlebar/call_entry.vala) is driven through AT-SPI, where
   * GTK 4 exposes its menu's actions (`call.audio`, `call.video`) as the button's own. Dino has no
   * D-Bus action or shortcut that starts a call; this avoids clicking at screen positions.
   */
  async startAudioCall(jid: string): Promise<void> {
    const conversation = await this.sql(this.database, `select c.id from conversation c join jid j on j.id = c.jid_id where j.bare_jid = '${jid}'`);
    if (!/^\d+$/.test(conversation)) throw new Error(`Dino has no chat with ${jid}`);
    await this.dinoAction('open-conversation', `<int32 ${conversation}>`);
    const script = join(this.dir, 'start-call.py');
    writeFileSync(script, START_CALL_SCRIPT);
    // Debian's python3 (pyatspi is a Debian package), not whichever python3 comes first in PATH.
    await run('/usr/bin/python3', [script, 'Start call', 'call.audio'], { env: { ...process.env, ...this.#env }, timeout: 30_000 });
  }

  /** `seconds` of what Dino plays: RMS and the fraction of loud samples (16 kHz mono). */
  async recordDino(seconds: number): Promise<{ rms: number; loud: number; samples: number }> {
    const raw = join(this.dir, `heard-${Date.now()}.raw`);
    await run('sh', ['-c', `timeout ${seconds} parec --device=speaker.monitor --format=s16le --rate=16000 --channels=1 > ${raw}; true`], { env: { ...process.env, ...this.#env } });
    const bytes = readFileSync(raw);
    const samples = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.length >> 1);
    let sum = 0;
    let loud = 0;
    for (const sample of samples) {
      sum += sample * sample;
      if (Math.abs(sample) > 300) loud += 1;
    }
    return { rms: samples.length === 0 ? 0 : Math.sqrt(sum / samples.length), loud: samples.length === 0 ? 0 : loud / samples.length, samples: samples.length };
  }

  /** Xvfb's screen (Dino's windows) as a PNG, for CI artifacts. */
  saveScreen(to: string): void {
    mkdirSync(join(to, '..'), { recursive: true });
    writeFileSync(to, xwdToPng(readFileSync(join(this.dir, 'Xvfb_screen0'))));
  }

  #start(command: string, args: string[], env: Record<string, string> = {}): RunningProcess {
    const started = startProcess(command, args, { env: { ...process.env, ...env } });
    this.#processes.push(started);
    return started;
  }

  async stop(): Promise<void> {
    for (const started of this.#processes.splice(0).reverse()) await started.stop();
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Finds the button whose accessible description is argv[1] in Dino and runs its action argv[2]; retries while Dino builds its UI. */
const START_CALL_SCRIPT = `
import sys, time, pyatspi
def nodes(node, depth=0):
    if node is None or depth > 40: return
    yield node
    for i in range(node.childCount):
        yield from nodes(node.getChildAtIndex(i), depth + 1)
def dino():
    desktop = pyatspi.Registry.getDesktop(0)
    for i in range(desktop.childCount):
        app = desktop.getChildAtIndex(i)
        if app is not None and app.name == 'dino-im': return app
description, wanted = sys.argv[1], sys.argv[2]
for attempt in range(100):
    for node in nodes(dino()):
        try:
            if node.description != description or 'button' not in node.getRoleName(): continue
            action = node.queryAction()
        except Exception:
            continue
        names = [action.getName(i) for i in range(action.nActions)]
        if wanted in names:
            action.doAction(names.index(wanted))
            sys.exit(0)
    time.sleep(0.2)
sys.exit('no button "%s" with action %s in Dino' % (description, wanted))
`;

function namespaceFor(subnet: number): string {
  return `sbdino${subnet}`;
}

/**
 * A subnet 198.18.<n>.0/24 of our own: `ip netns add` fails for a name that exists, so the first
 * namespace this process makes is its claim (another test file, or a run that was killed, keeps
 * its own). Starts at a place that depends on the process id, so parallel files rarely collide.
 */
async function claimSubnet(): Promise<number> {
  for (let i = 0; i < 150; i += 1) {
    const subnet = 100 + ((process.pid + i) % 150);
    const ok = await run('ip', ['netns', 'add', namespaceFor(subnet)]).then(
      () => true,
      () => false,
    );
    // Nothing else may use the subnet (podman networks live in this range too) nor the veth name.
    const inUse = async () =>
      (await run('ip', ['-o', 'addr', 'show', 'to', `198.18.${subnet}.0/24`]).then((r) => r.stdout.trim() !== '', () => true)) ||
      (await run('ip', ['link', 'show', `sbd${subnet}h`]).then(() => true, () => false));
    if (ok && !(await inUse())) return subnet;
    if (ok) await run('ip', ['netns', 'del', namespaceFor(subnet)]).catch(() => {});
  }
  throw new Error('no free 198.18.<n>.0/24 for a Dino lab (namespaces sbdino100..249 all exist)');
}

async function waitUntil(check: () => boolean | Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}
