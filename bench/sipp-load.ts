/**
 * One load step of the SIP benchmark: sipp (Debian's sip-tester 3.6.1) as UAC
 * placing `calls` INVITEs at `rate` calls/s over UDP, bounded by a global
 * timeout, run in a folder of its own (sipp writes its -trace_rtt file into
 * the working directory). Gives the counters of its statistics file and every
 * call's INVITE -> 200 delay (response time "setup", -rtt_freq 1).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// dist/bench/sipp-load.js -> <package>/bench/scenarios/ (the XML is not compiled).
const SCENARIO = fileURLToPath(new URL('../../bench/scenarios/sip-bench-uac.xml', import.meta.url));

export interface SippStepOptions {
  /** host:port of the gateway's UDP listener. */
  remote: string;
  localPort: number;
  controlPort: number;
  mediaPort: number;
  /** Web users called in turn, one per call. */
  users: string[];
  rate: number;
  calls: number;
  holdMs: number;
  /** sipp gives up on the whole step after this (its -timeout). */
  timeoutS: number;
  /** A call whose 200 does not come within this fails (sipp -recv_timeout). */
  answerTimeoutMs: number;
}

export interface SippStepResult {
  exitCode: number | null;
  /** Calls sipp started, that ended well, that failed (its cumulative counters). */
  outgoing: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** INVITE sent -> 200 received, ms, one sample per answered call. */
  setupMs: number[];
  /** The first lines of sipp's error log: why calls failed. */
  errorTail: string;
}

/** sipp's cumulative counter `name(C)` from the last line of its `;`-separated statistics file. */
function lastCounters(csv: string): Record<string, number> {
  const lines = csv.split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 2) return {};
  const names = lines[0]!.split(';');
  const values = lines[lines.length - 1]!.split(';');
  const counters: Record<string, number> = {};
  names.forEach((name, i) => {
    if (name.endsWith('(C)')) counters[name.slice(0, -3)] = Number(values[i]) || 0;
  });
  return counters;
}

/** -trace_rtt lines: `date_ms;response_time_ms;rtd_name` (after a header line). */
function responseTimes(csv: string): number[] {
  return csv
    .split('\n')
    .slice(1)
    .map((line) => Number(line.split(';')[1]))
    .filter((ms) => Number.isFinite(ms));
}

export async function runSippStep(options: SippStepOptions): Promise<SippStepResult> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-sip-bench-'));
  try {
    const users = join(dir, 'users.csv');
    writeFileSync(users, ['SEQUENTIAL', ...options.users].join('\n') + '\n');
    const args = [
      '-sf', SCENARIO,
      '-inf', users,
      '-i', '127.0.0.1',
      '-p', String(options.localPort),
      '-cp', String(options.controlPort),
      '-mp', String(options.mediaPort),
      '-t', 'u1',
      '-r', String(options.rate),
      '-m', String(options.calls),
      '-d', String(options.holdMs),
      '-recv_timeout', String(options.answerTimeoutMs),
      '-timeout', `${options.timeoutS}s`,
      '-nostdin',
      '-trace_stat', '-stf', join(dir, 'stats.csv'),
      '-trace_rtt', '-rtt_freq', '1',
      '-trace_err', '-error_file', join(dir, 'errors.log'),
      options.remote,
    ];
    const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // sipp's own -timeout ends it; this guard is for a sipp that hangs anyway (killed by its handle).
    const guard = setTimeout(() => child.kill('SIGKILL'), (options.timeoutS + 10) * 1000);
    const exitCode = await new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', (error) => {
        stderr += `spawn: ${error.message}`;
        resolve(null);
      });
    });
    clearTimeout(guard);
    const read = (name: string): string => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    const counters = lastCounters(read('stats.csv'));
    const rttFile = readdirSync(dir).find((name) => name.endsWith('_rtt.csv'));
    return {
      exitCode,
      outgoing: counters.OutgoingCall ?? 0,
      successful: counters.SuccessfulCall ?? 0,
      failed: counters.FailedCall ?? 0,
      retransmissions: counters.Retransmissions ?? 0,
      setupMs: rttFile ? responseTimes(read(rttFile)) : [],
      // sipp's first complaints say why calls failed; its "more errors, see <file>" points into this folder, gone next.
      errorTail: `${read('errors.log')}\n${stderr}`
        .split('\n')
        .filter((line) => line.trim() !== '' && !/There were more errors|The following events occurred/.test(line))
        .slice(0, 3)
        .join('\n'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
