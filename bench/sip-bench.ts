/**
 * SIP benchmark: sipp as UAC places INVITEs at increasing rates to web users
 * simulated by WebSocket clients that auto-answer with a node-datachannel
 * WebRTC answer, so every call crosses the SIP adapter, the core and the media
 * anchor (plain RTP towards sipp, ICE + DTLS-SRTP towards the web user). The
 * gateway runs in its own process. Per step: calls attempted, succeeded and
 * failed, INVITE -> 200 setup time (sipp's response time), gateway CPU.
 *
 * Files: sip-gateway-process (the gateway child), answering-web-users (the
 * called parties), sipp-load (one sipp step), scenarios/sip-bench-uac.xml.
 */
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnsweringWebUsers } from './answering-web-users.js';
import { machineCpu, processCpuMs, threadCpu, threadShares } from './process-cpu.js';
import { formatMs, percentiles, type Benchmark, type BenchmarkResult, type Percentiles } from './run.js';
import { BENCH_INVITES_PER_SECOND, startSipGateway, type SipGatewayChild } from './sip-gateway-process.js';
import { runSippStep, type SippStepResult } from './sipp-load.js';

const env = (name: string, fallback: number): number => Number(process.env[name]) || fallback;

const SETTINGS = {
  /** Calls per second of each step (BENCH_SIP_RATES=5,10 for a short run). */
  rates: (process.env.BENCH_SIP_RATES ?? '5,10,20,40,80,120,160').split(',').map(Number).filter((rate) => rate > 0),
  /** Each step places rate × stepSeconds calls. */
  stepSeconds: env('BENCH_SIP_STEP_S', 10),
  /** How long each answered call lasts before sipp's BYE: short, so concurrency stays near rate × hold. */
  holdMs: env('BENCH_SIP_HOLD_MS', 2000),
  /** A call whose 200 is not there by then counts as failed. */
  answerTimeoutMs: 8000,
  /**
   * Web users called in turn: at 80 calls/s and 2 s hold, about one call each at a time, well
   * under the default `signaling.maxCallsPerConnection` (4) and frame rate limit.
   */
  users: env('BENCH_SIP_USERS', 200),
  /** The ramp stops after a step with more failed calls than this (the next ones would only fail more). */
  stopAtFailedPct: 10,
  /** After the ramp, long enough for the ACK wait of 200s whose caller gave up to run out (64 × T1 = 32 s). */
  ackWaitS: 35,
  /** A second, stricter reading of "sustained": setup p99 below this too. */
  quickSetupP99Ms: 500,
  /** A step is "sustained" below this share of failed calls. */
  sustainedBelowPct: 1,
};

interface SipStep {
  rate: number;
  attempted: number;
  succeeded: number;
  failed: number;
  failedPct: number;
  retransmissions: number;
  setupMs: Percentiles & { samples: number };
  /** Achieved rate: calls attempted over the step's wall time, a check that sipp kept the pace. */
  wallS: number;
  gateway: { cpuPct: number; mainPct: number | undefined; rssMiB: number; peakCalls: number };
  /** This process (the web users and their node-datachannel endpoints). */
  driverCpuPct: number | undefined;
  /** All cores busy, % of one core: gateway, driver, sipp and anything else on the machine. */
  machineBusyPct: number | undefined;
  webUsers: { incoming: number; answered: number; answerFailures: number; connected: number };
  sippExit: number | null;
  errorTail: string;
  /** The gateway process died during the step or while its calls drained. */
  gatewayDied?: boolean;
}

/** A UDP port nobody holds right now (bound and released); `pair` also wants port + 2 free (sipp's media). */
async function freeUdpPort(pair = false): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 40_000 + Math.floor(Math.random() * 10_000) * 2;
    if ((await udpFree(port)) && (!pair || (await udpFree(port + 2)))) return port;
  }
  throw new Error('no free UDP port between 40000 and 60000');
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

async function gatewayStats(gateway: SipGatewayChild) {
  return gateway.request({ cmd: 'stats' }, 'stats');
}

async function runStep(gateway: SipGatewayChild, sipPort: number, users: AnsweringWebUsers, rate: number, log: (line: string) => void): Promise<SipStep> {
  const calls = rate * SETTINGS.stepSeconds;
  const countersBefore = { ...users.counters };
  const before = { stats: await gatewayStats(gateway), threads: threadCpu(gateway.pid), machine: machineCpu(), own: processCpuMs(process.pid), at: performance.now() };
  let peakCalls = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      peakCalls = Math.max(peakCalls, (await gatewayStats(gateway)).activeCalls);
      await sleep(500);
    }
  })();
  let result: SippStepResult;
  try {
    result = await runSippStep({
      remote: `127.0.0.1:${sipPort}`,
      localPort: await freeUdpPort(),
      controlPort: await freeUdpPort(),
      mediaPort: await freeUdpPort(true),
      users: users.names,
      rate,
      calls,
      holdMs: SETTINGS.holdMs,
      timeoutS: SETTINGS.stepSeconds + Math.ceil((SETTINGS.holdMs + SETTINGS.answerTimeoutMs) / 1000) + 10,
      answerTimeoutMs: SETTINGS.answerTimeoutMs,
    });
  } finally {
    sampling = false;
    await sampler;
  }
  const wallMs = performance.now() - before.at;
  const after = { stats: await gatewayStats(gateway), threads: threadCpu(gateway.pid), machine: machineCpu(), own: processCpuMs(process.pid) };
  const cpuUs = after.stats.cpu.user + after.stats.cpu.system - before.stats.cpu.user - before.stats.cpu.system;
  const main = threadShares(before.threads, after.threads, wallMs)?.find((share) => share.thread === 'main (JS)');
  // Calls sipp never got to start (its timeout) count as failed too: attempted is what was asked.
  const failed = calls - result.successful;
  const delta = (key: keyof AnsweringWebUsers['counters']): number => users.counters[key] - countersBefore[key];
  const step: SipStep = {
    rate,
    attempted: calls,
    succeeded: result.successful,
    failed,
    failedPct: (100 * failed) / calls,
    retransmissions: result.retransmissions,
    setupMs: { ...percentiles(result.setupMs), samples: result.setupMs.length },
    wallS: wallMs / 1000,
    gateway: { cpuPct: cpuUs / 10 / wallMs, mainPct: main?.cpuPct, rssMiB: after.stats.rssBytes / 2 ** 20, peakCalls },
    driverCpuPct: before.own !== undefined && after.own !== undefined ? (100 * (after.own - before.own)) / wallMs : undefined,
    machineBusyPct: before.machine && after.machine ? (100 * (after.machine.busyMs - before.machine.busyMs)) / wallMs : undefined,
    webUsers: { incoming: delta('incoming'), answered: delta('answered'), answerFailures: delta('answerFailures'), connected: delta('connected') },
    sippExit: result.exitCode,
    errorTail: result.errorTail,
  };
  log(
    `${rate} calls/s: ${step.succeeded}/${calls} ok (${step.failedPct.toFixed(1)}% failed), setup p50 ${formatMs(step.setupMs.p50)} p99 ${formatMs(step.setupMs.p99)} ms, ` +
      `gateway CPU ${step.gateway.cpuPct.toFixed(1)}% (JS ${step.gateway.mainPct?.toFixed(1) ?? '?'}%), peak ${peakCalls} calls, machine ${step.machineBusyPct?.toFixed(0) ?? '?'}%` +
      (failed > 0 && result.errorTail ? `; sipp: ${result.errorTail.split('\n').pop()}` : ''),
  );
  return step;
}

/** Waits for the previous step's calls to end in the gateway, so steps do not overlap. */
async function drain(gateway: SipGatewayChild, users: AnsweringWebUsers): Promise<void> {
  const deadline = performance.now() + 15_000;
  while (performance.now() < deadline && ((await gatewayStats(gateway)).activeCalls > 0 || users.openEndpoints > 0)) await sleep(250);
  await sleep(1000);
}

const fixed = (value: number | undefined, digits = 1): string => (value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));

function buildResult(steps: SipStep[], stoppedBecause: string | undefined): BenchmarkResult {
  const highest = (ok: (step: SipStep) => boolean): SipStep | undefined =>
    steps.filter(ok).reduce<SipStep | undefined>((top, step) => (!top || step.rate > top.rate ? step : top), undefined);
  // A step after which the gateway died is not sustained, whatever its count of failed calls.
  const best = highest((step) => step.failedPct < SETTINGS.sustainedBelowPct && !step.gatewayDied);
  const quick = highest((step) => step.failedPct < SETTINGS.sustainedBelowPct && !step.gatewayDied && step.setupMs.p99 < SETTINGS.quickSetupP99Ms);
  const perCore = best ? best.rate / (best.gateway.cpuPct / 100) : undefined;
  const notes = [
    quick
      ? `Highest rate with under ${SETTINGS.sustainedBelowPct}% failed calls and setup p99 under ${SETTINGS.quickSetupP99Ms} ms: ${quick.rate} calls/s ` +
        `(gateway ${fixed(quick.gateway.cpuPct)}% of one core, ${fixed(quick.rate / (quick.gateway.cpuPct / 100), 0)} calls/s per core).`
      : `No step had setup p99 under ${SETTINGS.quickSetupP99Ms} ms.`,
    best
      ? `Highest rate sustained with under ${SETTINGS.sustainedBelowPct}% failed calls: **${best.rate} calls/s** (${best.failed} of ${best.attempted} failed), ` +
        `the gateway then using ${fixed(best.gateway.cpuPct)}% of one core (JS thread ${fixed(best.gateway.mainPct)}%): ` +
        `**about ${fixed(perCore, 0)} calls/s per core** if CPU were the only limit (a linear extrapolation; the JS thread is one core at most). ` +
        'Steps after which the gateway process died do not count.'
      : `No step stayed under ${SETTINGS.sustainedBelowPct}% failed calls.`,
    `Each step places rate × ${SETTINGS.stepSeconds} calls (sipp -r, -m, -recv_timeout ${SETTINGS.answerTimeoutMs} ms, a global -timeout), each held ${SETTINGS.holdMs} ms, ` +
      `so about rate × ${(SETTINGS.holdMs / 1000).toFixed(0)} s calls are up at once; the gateway's calls are drained between steps. ` +
      `Failed = attempted − sipp's successful calls (rejected, timed out, or never started before the step's timeout).`,
    `Setup time is sipp's response time from sending the INVITE to receiving the 200 (whole milliseconds: -trace_rtt's resolution): the SIP adapter, the core, ` +
      `a web user's ringing + accept over the WebSocket, its node-datachannel answer (ICE gathering on loopback) and the anchor's RTP/AVP answer. ` +
      `ICE + DTLS to the anchor completes after it ("connected" counts endpoints that got there before the call ended).`,
    `sip.inbound.invitesPerSecond and invitesPerSecondTotal are raised to ${BENCH_INVITES_PER_SECOND} (and the request rate to ten times that) in the benchmark's gateway: the defaults (20 INVITEs per source, 100 in all; 200 requests per source, 1000 in all) refuse more by design. ` +
      `Everything else is the default configuration. ${SETTINGS.users} web users are called in turn (one WebSocket each).`,
    `The machine has 2 cores shared by the gateway, this driver (the web users' node-datachannel endpoints do DTLS too), sipp and whatever else runs on it ` +
      `(other engineers' tests during this run): the "machine busy" column shows it; figures at the top steps are bounded by the machine as much as by the gateway.`,
    'Gateway CPU is process.cpuUsage() of its child process over the whole step (every thread: node-datachannel runs ICE/DTLS on native threads); JS thread from /proc.',
  ];
  if (stoppedBecause) notes.push(`The ramp stopped early: ${stoppedBecause}.`);
  if (steps.some((step) => step.gatewayDied)) {
    notes.push(
      'Known crash: when a caller gives up on a late 200 and sends BYE without ACK, sip.js (0.21) throws "Invalid state transition from Terminated to Terminated" ' +
        'from Invitation.onAckTimeout 32 s later, in a timer, and the exception ends the gateway process. Under overload sipp does exactly that.',
    );
  }
  const failures = steps.filter((step) => step.failed > 0 && step.errorTail);
  for (const step of failures) notes.push(`At ${step.rate} calls/s sipp's first errors: ${step.errorTail.split('\n').join(' / ').slice(0, 400)}`);
  return {
    method:
      'A fresh gateway in a forked child (SIP over UDP on loopback, media anchor, default configuration but the INVITE flood limit). ' +
      `${SETTINGS.users} web users log in over the WebSocket protocol and auto-answer every call: ringing, then accept with a real WebRTC answer ` +
      'from a node-datachannel endpoint, so each call is anchored (RTP/AVP towards sipp, ICE + DTLS-SRTP towards the web user). ' +
      'sipp 3.6.1 (UDP) is the caller: INVITE with a PCMU offer to the next web user, 200, ACK, hold, BYE. The rate rises step by step.',
    tables: [
      {
        title: 'Calls per step (setup = INVITE sent → 200 received at sipp, ms)',
        headers: ['Rate (calls/s)', 'Attempted', 'Succeeded', 'Failed', 'Failed %', 'Setup p50', 'p90', 'p99', 'max', 'Peak calls up', 'Step wall (s)', 'Retransmissions'],
        rows: steps.map((s) => [
          String(s.rate), String(s.attempted), String(s.succeeded), String(s.failed), fixed(s.failedPct, 2),
          formatMs(s.setupMs.p50), formatMs(s.setupMs.p90), formatMs(s.setupMs.p99), formatMs(s.setupMs.max),
          String(s.gateway.peakCalls), fixed(s.wallS), String(s.retransmissions),
        ]),
      },
      {
        title: 'CPU per step (% of one core over the step)',
        headers: ['Rate (calls/s)', 'Gateway, all threads', 'Gateway JS thread', 'Gateway CPU ms per call', 'Gateway RSS (MiB)', 'Driver (web users)', 'Machine busy (2 cores = 200)', 'Web users: answered / ICE+DTLS connected'],
        rows: steps.map((s) => [
          String(s.rate), fixed(s.gateway.cpuPct), fixed(s.gateway.mainPct), fixed((s.gateway.cpuPct * 10 * s.wallS) / s.attempted, 2),
          fixed(s.gateway.rssMiB), fixed(s.driverCpuPct), fixed(s.machineBusyPct, 0), `${s.webUsers.answered} / ${s.webUsers.connected}`,
        ]),
      },
    ],
    notes,
    data: { settings: SETTINGS, steps, sustained: best ? { rate: best.rate, perCore } : undefined },
  };
}

export const sipBenchmark: Benchmark = {
  name: 'sip',
  description:
    'SIP call setup rate: sipp calls web users (node-datachannel, auto-answer) through the SIP adapter and the media anchor at increasing calls/s: failures, INVITE → 200 time, gateway CPU.',
  async run(log) {
    const { child: gateway, httpPort, sipPort } = await startSipGateway();
    let users: AnsweringWebUsers | undefined;
    const steps: SipStep[] = [];
    let stoppedBecause: string | undefined;
    try {
      users = await AnsweringWebUsers.login(httpPort, SETTINGS.users);
      log(`gateway pid ${gateway.pid}, SIP on 127.0.0.1:${sipPort}; ${SETTINGS.users} web users logged in`);
      for (const rate of SETTINGS.rates) {
        let step: SipStep;
        try {
          step = await runStep(gateway, sipPort, users, rate, log);
          steps.push(step);
          await drain(gateway, users);
        } catch (error) {
          // A gateway that dies under load is a finding, not a reason to lose the steps before it.
          if (!gateway.exited) throw error;
          const last = steps[steps.length - 1];
          if (last?.rate === rate) last.gatewayDied = true;
          stoppedBecause = `the gateway process exited (${gateway.exitStatus}) during or after the ${rate} calls/s step; its error is on stderr`;
          log(stoppedBecause);
          break;
        }
        if (step.failedPct > SETTINGS.stopAtFailedPct) {
          stoppedBecause = `${fixed(step.failedPct)}% of calls failed at ${rate} calls/s`;
          break;
        }
      }
      // Calls sipp gave up on end later in the gateway (its ACK wait, RFC 3261 section 13.3.1.4, is 32 s): say if that killed it.
      await sleep(SETTINGS.ackWaitS * 1000);
      const result = buildResult(steps, stoppedBecause);
      if (gateway.exited) result.notes.push(`The gateway process exited (${gateway.exitStatus}) after the ramp, before it was told to stop; its error is on stderr.`);
      return result;
    } finally {
      users?.close();
      await gateway.stop();
      // node-datachannel's threads would keep the benchmark process alive.
      users?.releaseNative();
    }
  },
};
