/**
 * A real SIP phone for tests: baresip (Debian's 1.0.0) on loopback with its
 * own config folder, playing a generated tone and recording what it hears,
 * driven through its ctrl_tcp module (JSON in netstrings on a TCP port).
 *
 * What this baresip version needs (found by trying):
 * - `net_interface 127.0.0.1` (an address; `lo` does not work) and no
 *   ice/stun/turn modules: its ICE skips loopback.
 * - aufile is a source only in 1.0.0 (no aufile player), so what the phone
 *   hears is recorded by the `sndfile` filter module: it writes
 *   `dump-<timestamp>-dec.wav` (heard) and `...-enc.wav` (sent) into
 *   `snd_path` for each call, at the codec's rate (48 kHz stereo for opus).
 *   The player is an `aubridge` device nobody reads, which is fine: decoding
 *   and the filter run on the receive path.
 * - aufile loads the whole WAV at the start of a call and plays it once, then
 *   sends silence; `ausrc_srate`/`ausrc_channels` make baresip resample the
 *   file to whatever codec is negotiated.
 * - account `audio_codecs` needs full specs (`opus/48000/2`); `opus` alone
 *   is read as opus/8000/1 and not found.
 * - With stdin not a terminal the stdio UI fails, so it is not loaded; the
 *   `menu` module provides the commands (dial, hangup, accept), ctrl_tcp
 *   carries them and reports events (CALL_ESTABLISHED, CALL_CLOSED, ...).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type RunningProcess } from '../child-process.js';
import { allocatePort, randomRtpPortRange } from './ports.js';
import { measureAudio, readWav, writeToneWav, type AudioMeasurement } from './wav.js';

export type BaresipCodec = 'PCMU' | 'PCMA' | 'opus' | 'G722';

const CODEC_SPECS: Record<BaresipCodec, string> = {
  PCMU: 'PCMU/8000/1',
  PCMA: 'PCMA/8000/1',
  opus: 'opus/48000/2',
  G722: 'G722/16000/1',
};
const CODEC_RATES: Record<BaresipCodec, number> = { PCMU: 8000, PCMA: 8000, opus: 48000, G722: 16000 };

export interface BaresipRegistrar {
  /** The registrar's host:port, e.g. `127.0.0.1:5070`; it is the domain of the account's AOR. */
  server: string;
  password: string;
  transport?: 'udp' | 'tcp';
  /** Registration interval in seconds (default 600). */
  regint?: number;
  /** Authentication user name when it differs from `user`. */
  authUser?: string;
}

export interface BaresipOptions {
  /** SIP port on 127.0.0.1, UDP and TCP (a free one when omitted); baresip also takes the port above it for TLS. */
  sipPort?: number;
  /** User part of the account's AOR (default `baresip`). */
  user?: string;
  /** Answer incoming calls at once (default true); otherwise call `answer()`. */
  autoAnswer?: boolean;
  /** Frequency of the tone it sends (default 440 Hz; 0 sends silence). */
  toneHz?: number;
  /** Length of the tone file (default 60 s); after it the phone sends silence. */
  toneSeconds?: number;
  /** Tone amplitude as a fraction of full scale (default 0.5). */
  toneAmplitude?: number;
  /** Codecs offered, in order of preference (default PCMU). */
  codecs?: BaresipCodec[];
  /** Register to this registrar with digest auth; no registration when omitted. */
  registrar?: BaresipRegistrar | undefined;
  /** Print SIP messages to the output (baresip -s). */
  sipTrace?: boolean;
  /** Extra config lines appended to the config file. */
  extraConfig?: string[];
}

export interface BaresipEvent {
  type: string;
  class?: string;
  accountaor?: string;
  direction?: string;
  peeruri?: string;
  id?: string;
  param?: string;
  [key: string]: unknown;
}

export interface Baresip {
  sipPort: number;
  /** The account's URI, e.g. `sip:bob@127.0.0.1:5062`: what others dial to reach it directly. */
  uri: string;
  user: string;
  ctrlPort: number;
  rtpPortRange: [number, number];
  /** The folder the recorder writes into (one pair of files per call). */
  recordingDir: string;
  /** The newest recording of what the phone heard, once a call has started media. */
  readonly recordingPath: string | undefined;
  configDir: string;
  process: RunningProcess;
  dial(uri: string): Promise<void>;
  hangup(): Promise<void>;
  /** Accepts a ringing incoming call (for `autoAnswer: false`). */
  answer(): Promise<void>;
  /** Sends any menu command (`listcalls`, `callstat`, `reginfo`, ...) and returns its text. */
  command(command: string, params?: string): Promise<string>;
  /** Each wait consumes one event of its type, so successive calls wait for successive events. */
  waitForEvent(type: string, timeoutMs?: number): Promise<BaresipEvent>;
  waitForCallEstablished(timeoutMs?: number): Promise<BaresipEvent>;
  waitForCallClosed(timeoutMs?: number): Promise<BaresipEvent>;
  waitForIncomingCall(timeoutMs?: number): Promise<BaresipEvent>;
  waitForRegistered(timeoutMs?: number): Promise<BaresipEvent>;
  events(): BaresipEvent[];
  /** What the phone heard in its newest call (or `sent: true`: what it sent). Works while the call runs. */
  recordedAudio(options?: { skipS?: number; sent?: boolean }): AudioMeasurement;
  /** Ends the process (SIGTERM, then SIGKILL) and removes its folder unless SWITCHBOARD_KEEP_PEER_FILES is set. */
  stop(): Promise<void>;
}

export async function startBaresip(options: BaresipOptions = {}): Promise<Baresip> {
  const sipPort = options.sipPort ?? (await freeSipPort());
  const ctrlPort = await allocatePort();
  const user = options.user ?? 'baresip';
  const codecs = options.codecs?.length ? options.codecs : (['PCMU'] as BaresipCodec[]);
  const toneRate = CODEC_RATES[codecs[0]!];
  const rtpPortRange = randomRtpPortRange();
  const configDir = mkdtempSync(join(tmpdir(), 'switchboard-baresip-'));
  const recordingDir = join(configDir, 'recordings');
  const tonePath = join(configDir, 'tone.wav');
  const device = `sb${sipPort}`;

  writeToneWav(tonePath, {
    frequency: options.toneHz ?? 440,
    sampleRate: toneRate,
    seconds: options.toneSeconds ?? 60,
    amplitude: options.toneAmplitude ?? 0.5,
  });
  mkdirSync(recordingDir);

  const modules = new Set<string>(['g711.so']);
  if (codecs.includes('opus')) modules.add('opus.so');
  if (codecs.includes('G722')) modules.add('g722.so');
  const config = [
    'poll_method epoll',
    `sip_listen 127.0.0.1:${sipPort}`,
    'call_local_timeout 120',
    'call_max_calls 4',
    `audio_source aufile,${tonePath}`,
    `audio_player aubridge,${device}play`,
    `audio_alert aubridge,${device}alert`,
    `ausrc_srate ${toneRate}`,
    'ausrc_channels 1',
    'audio_level no',
    'ausrc_format s16',
    'auplay_format s16',
    `rtp_ports ${rtpPortRange[0]}-${rtpPortRange[1]}`,
    'rtcp_mux no',
    'jitter_buffer_delay 5-10',
    'rtp_stats no',
    'net_interface 127.0.0.1',
    'module_path /usr/lib/baresip/modules',
    ...[...modules].map((name) => `module ${name}`),
    'module aufile.so',
    'module aubridge.so',
    'module sndfile.so',
    'module_tmp account.so',
    'module_app menu.so',
    'module_app ctrl_tcp.so',
    `ctrl_tcp_listen 127.0.0.1:${ctrlPort}`,
    `snd_path ${recordingDir}`,
    'statmode_default off',
    ...(options.extraConfig ?? []),
    '',
  ].join('\n');
  writeFileSync(join(configDir, 'config'), config);
  // A registering account is added over ctrl_tcp once it is connected (uanew), so that its
  // REGISTER_OK/REGISTER_FAIL events are not sent before anyone listens.
  const account = accountLine(user, options, codecs);
  writeFileSync(join(configDir, 'accounts'), options.registrar ? '' : `${account}\n`);
  writeFileSync(join(configDir, 'contacts'), '');

  const args = ['-f', configDir];
  if (options.sipTrace) args.push('-s');
  const child = startProcess('baresip', args);
  const cleanup = async () => {
    await child.stop();
    if (!process.env.SWITCHBOARD_KEEP_PEER_FILES) rmSync(configDir, { recursive: true, force: true });
  };
  let control: Control;
  try {
    await child.waitFor(/baresip is ready/, 10_000);
    control = await openControl(ctrlPort);
    if (options.registrar) await control.command('uanew', account);
  } catch (error) {
    await cleanup();
    throw error;
  }

  const newestRecording = (suffix: string): string | undefined => {
    let newest: { path: string; mtime: number } | undefined;
    for (const name of safeReaddir(recordingDir)) {
      if (!name.endsWith(suffix)) continue;
      const path = join(recordingDir, name);
      const mtime = statSync(path).mtimeMs;
      if (!newest || mtime >= newest.mtime) newest = { path, mtime };
    }
    return newest?.path;
  };

  const waitForEvent = (type: string, timeoutMs = 10_000) =>
    control.waitForEvent(type, timeoutMs, () => child.output().slice(-3000));

  return {
    sipPort,
    uri: `sip:${user}@127.0.0.1:${sipPort}`,
    user,
    ctrlPort,
    rtpPortRange,
    recordingDir,
    get recordingPath() {
      return newestRecording('-dec.wav');
    },
    configDir,
    process: child,
    async dial(uri) {
      await control.command('dial', uri);
    },
    async hangup() {
      await control.command('hangup');
    },
    async answer() {
      await control.command('accept');
    },
    command: (command, params) => control.command(command, params),
    waitForEvent,
    waitForCallEstablished: (timeoutMs) => waitForEvent('CALL_ESTABLISHED', timeoutMs),
    waitForCallClosed: (timeoutMs) => waitForEvent('CALL_CLOSED', timeoutMs),
    waitForIncomingCall: (timeoutMs) => waitForEvent('CALL_INCOMING', timeoutMs),
    waitForRegistered: (timeoutMs) => waitForEvent('REGISTER_OK', timeoutMs),
    events: () => [...control.events],
    recordedAudio(audioOptions = {}) {
      const path = newestRecording(audioOptions.sent ? '-enc.wav' : '-dec.wav');
      if (!path) throw new Error(`baresip ${user} has no recording in ${recordingDir} (no call with media yet)`);
      return measureAudio(readWav(path), { skipS: audioOptions.skipS });
    },
    async stop() {
      control.close();
      await cleanup();
    },
  };
}

function accountLine(user: string, options: BaresipOptions, codecs: BaresipCodec[]): string {
  const params = [
    `answermode=${options.autoAnswer === false ? 'manual' : 'auto'}`,
    `audio_codecs=${codecs.map((codec) => CODEC_SPECS[codec]).join(',')}`,
  ];
  const registrar = options.registrar;
  if (!registrar) return `<sip:${user}@127.0.0.1>;regint=0;${params.join(';')}`;
  params.push(`auth_pass=${registrar.password}`, `regint=${registrar.regint ?? 600}`);
  if (registrar.authUser) params.push(`auth_user=${registrar.authUser}`);
  const transport = registrar.transport ? `;transport=${registrar.transport}` : '';
  return `<sip:${user}@${registrar.server}${transport}>;${params.join(';')}`;
}

/**
 * baresip 1.0.0 listens on the SIP port with UDP and TCP and, certificate or
 * not, on the port above it with TLS: both must be free.
 */
async function freeSipPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await allocatePort();
    if (port < 65535 && (await tcpPortFree(port + 1))) return port;
  }
  throw new Error('no free SIP port pair for baresip');
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

interface Control {
  events: BaresipEvent[];
  command(command: string, params?: string): Promise<string>;
  waitForEvent(type: string, timeoutMs: number, context: () => string): Promise<BaresipEvent>;
  close(): void;
}

/** The ctrl_tcp client: netstrings (`<length>:<json>,`) both ways. */
async function openControl(port: number): Promise<Control> {
  const socket: Socket = await new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
  const events: BaresipEvent[] = [];
  const consumed = new Map<string, number>();
  const pending = new Map<string, { resolve: (data: string) => void; reject: (error: Error) => void }>();
  const listeners = new Set<() => void>();
  let buffer = Buffer.alloc(0);
  let nextToken = 1;
  let closedError: Error | undefined;

  socket.on('data', (chunk) => {
    buffer = Buffer.concat([buffer, chunk]);
    for (;;) {
      const colon = buffer.indexOf(0x3a);
      if (colon < 0) break;
      const length = Number(buffer.subarray(0, colon).toString());
      if (!Number.isInteger(length)) {
        fail(new Error(`bad netstring from baresip: ${buffer.toString().slice(0, 100)}`));
        socket.destroy();
        return;
      }
      if (buffer.length < colon + 1 + length + 1) break;
      const message = JSON.parse(buffer.subarray(colon + 1, colon + 1 + length).toString()) as Record<string, unknown>;
      buffer = buffer.subarray(colon + 1 + length + 1);
      if (message.event) {
        events.push(message as BaresipEvent);
        for (const listener of listeners) listener();
      } else if (message.response) {
        const waiter = pending.get(String(message.token));
        pending.delete(String(message.token));
        if (!waiter) continue;
        if (message.ok) waiter.resolve(String(message.data ?? ''));
        else waiter.reject(new Error(`baresip command failed: ${String(message.data ?? '')}`));
      }
    }
  });
  function fail(error: Error): void {
    if (closedError) return;
    closedError = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    for (const listener of listeners) listener();
  }
  socket.on('error', (error) => fail(error));
  socket.on('close', () => fail(new Error('baresip control connection closed')));

  return {
    events,
    command(command, params = '') {
      if (closedError) return Promise.reject(closedError);
      const token = String(nextToken++);
      const json = JSON.stringify({ command, params, token });
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(token);
          reject(new Error(`baresip did not answer ${command} within 5 s`));
        }, 5000);
        pending.set(token, {
          resolve: (data) => (clearTimeout(timer), resolve(data)),
          reject: (error) => (clearTimeout(timer), reject(error)),
        });
        socket.write(`${Buffer.byteLength(json)}:${json},`);
      });
    },
    waitForEvent(type, timeoutMs, context) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const from = consumed.get(type) ?? 0;
          const index = events.findIndex((event, i) => i >= from && event.type === type);
          if (index >= 0) {
            consumed.set(type, index + 1);
            done();
            resolve(events[index]!);
          } else if (closedError) {
            done();
            reject(new Error(`waiting for ${type}: ${closedError.message}\n${context()}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          const seen = events.map((event) => event.type).join(', ');
          reject(new Error(`baresip: no ${type} within ${timeoutMs} ms (events: ${seen})\n${context()}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    close() {
      socket.destroy();
    },
  };
}
