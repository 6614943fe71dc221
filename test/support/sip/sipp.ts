/**
 * sipp (Debian's sip-tester 3.6.1) for scripted SIP flows: `runSipp` runs a
 * scenario to completion under a hard timeout; `startSippServer` keeps a UAS
 * scenario answering in the background until its calls are done or it is
 * stopped.
 *
 * Notes for this version:
 * - Without a terminal sipp prints only its final screens; the numbers come
 *   from its statistics file (-trace_stat -stf), failures from -trace_err.
 * - It always binds a UDP control socket (-cp, 8888 and up by default, on all
 *   addresses), so a free port is passed to keep parallel runs apart.
 * - It always binds the media port (-mp, 6000 by default) and the port two
 *   above, echo or not, so a free pair is passed; the SDP in the scenarios
 *   carries [media_port]. -rtp_echo sends back what arrives there.
 * - Over TCP sipp counts a call as failed if the peer closes the connection
 *   while the call still has a step to run (its closing <timewait>, say),
 *   which is what a sipp peer does when it exits. The scenarios in
 *   test/sip/scenarios declare globals `reliable_transport` (end right after
 *   the last message) and `lossy_link` (linger 32 s instead of 1 s for
 *   retransmissions); this module sets them for t1 runs and for `lossyLink`.
 * - A call is counted (stats, -m) only once its timewait is over. SIGTERM
 *   ends sipp with exit code 0 whatever state its calls are in: await `done`
 *   of a server to judge it, use stop() to clean up.
 * - A sipp UAS aborts a call when a retransmitted INVITE arrives after it
 *   sent its 200 (it does not resend the 200), so over a lossy link a lost
 *   100 Trying can fail a sipp-to-sipp call; a real UAS handles that.
 * - Exit code 0: every call succeeded; 1: some call failed; 97: stopped by a
 *   command; 99: ended without processing a call; 255 (-1): fatal, including
 *   -timeout with -timeout_error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatePort, freeMediaPort, udpPortFree } from './ports.js';

/** test/sip/scenarios */
export const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sip/scenarios');

/** A scenario by name (`uac-call-bye` or `uac-call-bye.xml`) in test/sip/scenarios, or a path as is. */
export function scenarioPath(scenario: string): string {
  if (isAbsolute(scenario) || scenario.includes('/')) return scenario;
  return join(SCENARIO_DIR, scenario.endsWith('.xml') ? scenario : `${scenario}.xml`);
}

export interface SippOptions {
  /** Scenario XML: a name in test/sip/scenarios or a path. */
  scenario: string;
  /** host:port to send to (UAC). Optional for a UAS. */
  remote?: string;
  /** Local SIP port (a free one when omitted). */
  localPort?: number;
  /** Local address sipp binds and writes in Via/Contact/From (default 127.0.0.1; any of 127.0.0.0/8). */
  localAddress?: string;
  /** u1: UDP, one socket; t1: TCP, one connection (default u1). */
  transport?: 'u1' | 't1';
  /** Stop after this many calls (-m, default 1; a call ends after its closing timewait); 0: run until the timeout or stop(). */
  calls?: number;
  /** Calls per second (-r, default 10). */
  rate?: number;
  /** Limit of simultaneous calls (-l). */
  maxConcurrent?: number;
  /** Media port put in the SDP (-mp; a free one when omitted). */
  mediaPort?: number;
  /** Echo RTP that arrives on the media port (-rtp_echo). */
  rtpEcho?: boolean;
  /** Global timeout; the run fails when it is reached (default 20 s). */
  timeoutS?: number;
  /** Custom keywords for the scenario, `[name]` (-key name value), e.g. refer_to. */
  variables?: Record<string, string>;
  /** Request-URI user part, [service] (-s, default `service`). */
  service?: string;
  /** Values for globals the scenario declares (-set name value). */
  globals?: Record<string, string>;
  /**
   * The link loses packets: scenarios that declare `lossy_link` then keep
   * their dialog for 32 s after the last message (instead of 1 s) to answer
   * retransmissions. Stop such a server with stop() rather than waiting for it.
   */
  lossyLink?: boolean;
  /** Length of `<pause/>` without attributes (-d, milliseconds). */
  pauseMs?: number;
  /** Keep a log of every message (-trace_msg), returned as `messages`. */
  traceMessages?: boolean;
  /** Anything else for the command line. */
  extraArgs?: string[];
}

export interface SippStats {
  successfulCalls: number;
  failedCalls: number;
  outgoingCalls: number;
  incomingCalls: number;
  retransmissions: number;
  failedUnexpectedMessage: number;
  failedMaxUdpRetrans: number;
  /** Every cumulative counter of the statistics file by name (e.g. `FailedCallRejected(C)`). */
  raw: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stats: SippStats;
  /** The error log (-trace_err): unexpected messages, failed regexps, timeouts. */
  errors: string;
  /** The message log when traceMessages is set. */
  messages: string;
  command: string[];
}

export interface SippServer {
  port: number;
  mediaPort: number;
  transport: 'u1' | 't1';
  /** Resolves when sipp exits on its own (after `calls` calls) or is stopped. */
  done: Promise<SippResult>;
  /** Ends sipp (SIGTERM, then SIGKILL) and returns what it reported. */
  stop(): Promise<SippResult>;
  pid: number | undefined;
}

interface Prepared {
  args: string[];
  dir: string;
  localPort: number;
  mediaPort: number;
  transport: 'u1' | 't1';
  timeoutS: number;
  traceMessages: boolean;
}

async function prepare(options: SippOptions): Promise<Prepared> {
  const scenario = scenarioPath(options.scenario);
  if (!existsSync(scenario)) throw new Error(`no sipp scenario ${scenario}`);
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-sipp-'));
  const localPort = options.localPort ?? (await allocatePort());
  const mediaPort = options.mediaPort ?? (await freeMediaPort());
  const controlPort = await allocatePort();
  const transport = options.transport ?? 'u1';
  const timeoutS = options.timeoutS ?? 20;
  const traceMessages = options.traceMessages ?? false;
  const args = [
    '-sf', scenario,
    '-i', options.localAddress ?? '127.0.0.1',
    '-p', String(localPort),
    '-t', transport,
    '-r', String(options.rate ?? 10),
    '-mp', String(mediaPort),
    '-cp', String(controlPort),
    '-s', options.service ?? 'service',
    '-timeout', `${timeoutS}s`,
    '-timeout_error',
    '-nostdin',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    '-trace_stat', '-stf', join(dir, 'stats.csv'),
  ];
  // The scenarios here end with a timewait whose length they pick from two globals
  // (see test/sip/scenarios): none over TCP, where nothing is retransmitted (and sipp
  // fails a call in timewait when the peer closes the connection), 32 s on a lossy link.
  // sipp refuses -set for a global the scenario does not declare.
  const declared = declaredGlobals(readFileSync(scenario, 'utf8'));
  const globals: Record<string, string> = { ...options.globals };
  if (transport === 't1' && declared.has('reliable_transport')) globals.reliable_transport ??= '1';
  if (options.lossyLink && declared.has('lossy_link')) globals.lossy_link ??= '1';
  for (const [name, value] of Object.entries(globals)) {
    if (!declared.has(name)) throw new Error(`${scenario} declares no global ${name} (<Global variables="...">)`);
    args.push('-set', name, value);
  }
  // -m: stop after this many calls; 0 runs until the timeout or stop().
  if ((options.calls ?? 1) > 0) args.push('-m', String(options.calls ?? 1));
  if (options.maxConcurrent !== undefined) args.push('-l', String(options.maxConcurrent));
  if (options.rtpEcho) args.push('-rtp_echo');
  if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
  if (traceMessages) args.push('-trace_msg', '-message_file', join(dir, 'messages.log'));
  for (const [name, value] of Object.entries(options.variables ?? {})) args.push('-key', name, value);
  args.push(...(options.extraArgs ?? []));
  if (options.remote) args.push(options.remote);
  return { args, dir, localPort, mediaPort, transport, timeoutS, traceMessages };
}

function launch(prepared: Prepared, hardTimeoutMs: number): { child: ChildProcess; done: Promise<SippResult>; stop(): Promise<SippResult> } {
  const child = spawn('sipp', prepared.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const kill = (signal: NodeJS.Signals) => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, signal);
      } catch {
        // already gone
      }
    }
  };
  const hardTimer = setTimeout(() => {
    stderr += `\n[harness] sipp still running after ${hardTimeoutMs} ms: killed`;
    kill('SIGKILL');
  }, hardTimeoutMs);
  const done = new Promise<SippResult>((resolveDone) => {
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(hardTimer);
      const read = (name: string) => {
        const path = join(prepared.dir, name);
        return existsSync(path) ? readFileSync(path, 'utf8') : '';
      };
      const result: SippResult = {
        exitCode,
        signal,
        stdout,
        stderr,
        stats: parseStats(read('stats.csv')),
        errors: read('errors.log'),
        messages: prepared.traceMessages ? read('messages.log') : '',
        command: ['sipp', ...prepared.args],
      };
      if (!process.env.SWITCHBOARD_KEEP_PEER_FILES) rmSync(prepared.dir, { recursive: true, force: true });
      resolveDone(result);
    };
    child.once('exit', (code, signal) => finish(code, signal));
    child.once('error', (error) => {
      stderr += `\nspawn error: ${error.message}`;
      finish(null, null);
    });
  });
  return {
    child,
    done,
    async stop() {
      kill('SIGTERM');
      const killer = setTimeout(() => kill('SIGKILL'), 3000);
      const result = await done;
      clearTimeout(killer);
      return result;
    },
  };
}

/** A port taken between choosing it and sipp binding it: worth another try with new ports. */
function lostPortRace(result: SippResult, options: SippOptions): boolean {
  const text = `${result.stdout}\n${result.stderr}\n${result.errors}`;
  return (
    options.localPort === undefined &&
    options.mediaPort === undefined &&
    result.stats.outgoingCalls + result.stats.incomingCalls === 0 &&
    /Unable to bind|Address already in use|errno = 98/.test(text)
  );
}

/** Runs a scenario to completion; the process is killed `timeoutS + 5` seconds after start at the latest. */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  for (let attempt = 1; ; attempt++) {
    const prepared = await prepare(options);
    const result = await launch(prepared, (prepared.timeoutS + 5) * 1000).done;
    if (attempt < 3 && lostPortRace(result, options)) continue;
    return result;
  }
}

/**
 * Starts a (UAS) scenario in the background and resolves once its SIP socket
 * is bound. It ends by itself after `calls` calls (default 1) or the timeout
 * (default 60 s here), or when stopped.
 */
export async function startSippServer(options: SippOptions): Promise<SippServer> {
  for (let attempt = 1; ; attempt++) {
    const prepared = await prepare({ timeoutS: 60, ...options });
    const run = launch(prepared, (prepared.timeoutS + 5) * 1000);
    let exited = false;
    void run.done.then(() => (exited = true));
    const deadline = Date.now() + 5000;
    let failure: SippResult | undefined;
    for (;;) {
      const bound =
        prepared.transport === 't1' ? !(await tcpPortFree(prepared.localPort)) : !(await udpPortFree(prepared.localPort));
      if (bound && !exited) {
        // Someone else could hold the port: make sure sipp did not exit on a bind error.
        await new Promise((r) => setTimeout(r, 100));
        if (!exited) break;
      }
      if (exited || Date.now() > deadline) {
        failure = await run.stop();
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!failure) {
      return {
        port: prepared.localPort,
        mediaPort: prepared.mediaPort,
        transport: prepared.transport,
        done: run.done,
        stop: () => run.stop(),
        pid: run.child.pid,
      };
    }
    if (attempt < 3 && lostPortRace(failure, options)) continue;
    throw new Error(
      `sipp ${options.scenario} did not start on 127.0.0.1:${prepared.localPort}: ${describeSipp(failure)}`,
    );
  }
}

function declaredGlobals(xml: string): Set<string> {
  const names = new Set<string>();
  for (const match of xml.matchAll(/<Global\s+variables="([^"]*)"/g)) {
    for (const name of match[1]!.split(',')) if (name.trim()) names.add(name.trim());
  }
  return names;
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

/** The last line of sipp's `;`-separated statistics file, cumulative counters by name. */
export function parseStats(csv: string): SippStats {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  const raw: Record<string, string> = {};
  if (lines.length >= 2) {
    const names = lines[0]!.split(';');
    const values = lines[lines.length - 1]!.split(';');
    names.forEach((name, i) => {
      if (name) raw[name] = values[i] ?? '';
    });
  }
  const number = (name: string) => Number(raw[`${name}(C)`] ?? 0) || 0;
  return {
    successfulCalls: number('SuccessfulCall'),
    failedCalls: number('FailedCall'),
    outgoingCalls: number('OutgoingCall'),
    incomingCalls: number('IncomingCall'),
    retransmissions: number('Retransmissions'),
    failedUnexpectedMessage: number('FailedUnexpectedMessage'),
    failedMaxUdpRetrans: number('FailedMaxUDPRetrans'),
    raw,
  };
}

/** A one-line summary for assertion messages. */
export function describeSipp(result: SippResult): string {
  return [
    `exit ${result.exitCode}${result.signal ? ` (${result.signal})` : ''}`,
    `stats ${JSON.stringify({ ...result.stats, raw: undefined })}`,
    result.errors.trim() && `errors: ${result.errors.trim().slice(-2000)}`,
    result.stderr.trim() && `stderr: ${result.stderr.trim().slice(-1000)}`,
    `stdout tail: ${result.stdout.slice(-1500)}`,
  ]
    .filter(Boolean)
    .join('\n');
}
