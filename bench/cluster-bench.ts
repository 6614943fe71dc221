/**
 * Cluster benchmark (`npm run bench -- cluster`): the real `switchboard` command as one process
 * and as `--workers 2` on this machine, with
 *  - anchored media: N node-datachannel "browsers" each in an echo call (ICE + DTLS-SRTP to the
 *    anchor, RTP through the echo service and back, 50 packets/s each way), the calls spread
 *    over the workers by the shared HTTP port: CPU of each gateway process and its JS thread;
 *  - SIP call set-up: sipp calls auto-answering web users at rising rates (with workers, one sipp
 *    per worker, calling the users that worker holds, as the Kamailio edge would route them):
 *    failures, INVITE -> 200, CPU;
 *  - signaling round trip (`call` -> `incoming` -> `accept` -> `answered`, relayed media) between
 *    two users on the same worker and on two workers (the Redis bus in between): p50/p99.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { ConfigInput } from '../src/config/load-config.js';
import type { ClientMessage, ServerMessage } from '../src/protocol/messages.js';
import { AnsweringWebUsers } from './answering-web-users.js';
import { BrowserCall } from './browser-peer.js';
import { BenchRedis, freeTcpPort, SwitchboardProcess } from './cluster-processes.js';
import { withTimeout } from './gateway-process.js';
import { LoadMeter, Pacer } from './media-load.js';
import { machineCpu, processCpuMs, threadCpu, threadShares } from './process-cpu.js';
import { formatMs, percentiles, type Benchmark, type BenchmarkResult, type Percentiles } from './run.js';
import { browserSdp } from './signaling-bench.js';
import { BENCH_INVITES_PER_SECOND } from './sip-gateway-process.js';
import { runSippStep } from './sipp-load.js';

const list = (name: string, fallback: string): number[] => (process.env[name] ?? fallback).split(',').map(Number).filter((n) => n > 0);
const SETTINGS = {
  workers: [1, 2],
  /** Echo calls held at once (BENCH_CLUSTER_CALLS). */
  mediaCalls: list('BENCH_CLUSTER_CALLS', '100,200'),
  mediaWindowMs: 10_000,
  /** Total SIP calls/s (BENCH_CLUSTER_SIP_RATES), split over the workers. */
  sipRates: list('BENCH_CLUSTER_SIP_RATES', '40,80,120'),
  sipStepSeconds: 10,
  sipHoldMs: 2000,
  sipUsers: 120,
  roundTrips: 300,
};

const fixed = (value: number | undefined, digits = 1): string => (value === undefined || Number.isNaN(value) ? 'n/a' : value.toFixed(digits));

function gatewayConfig(workers: number, httpPort: number, sipPort: number, redisUrl: string, run: string): ConfigInput {
  return {
    server: { host: '127.0.0.1', port: httpPort, drainTimeoutMs: 1000 },
    stun: { enabled: false },
    ice: { candidateNetworks: ['127.0.0.0/8'] },
    log: { level: 'warn' },
    sip: {
      enabled: true,
      host: '127.0.0.1',
      port: sipPort,
      tcp: false,
      ws: false,
      advertisedHost: '127.0.0.1',
      inbound: { invitesPerSecond: BENCH_INVITES_PER_SECOND, invitesPerSecondTotal: BENCH_INVITES_PER_SECOND, requestsPerSecond: 10 * BENCH_INVITES_PER_SECOND, requestsPerSecondTotal: 10 * BENCH_INVITES_PER_SECOND },
    },
    media: { rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1', rtpPortMin: 20_000, rtpPortMax: 29_999, icePortMin: 30_000, icePortMax: 32_767 },
    // One probe places 600 calls back to back in the round-trip part (~80 frames/s), above the
    // per-connection rate a browser is allowed: its hang-ups were dropped as rate-limited.
    signaling: {
      maxConnections: 0,
      maxConnectionsPerSource: 1_000_000,
      maxPendingLoginsPerSource: 1_000_000,
      maxCallsPerSource: 1_000_000,
      rateLimit: { messagesPerSecond: 10_000, burst: 10_000 },
    },
    // One process is the default, memory directory; workers share the Redis one.
    ...(workers > 1 ? { directory: { kind: 'redis' as const, redis: { url: redisUrl, keyPrefix: `${run}:` } }, cluster: { nodeId: run, workers } } : {}),
  };
}

/** Ready when the HTTP port answers and, with workers, every worker's heartbeat is in Redis. */
function readyCheck(httpPort: number, workers: number, redisUrl: string, run: string): () => Promise<boolean> {
  return async () => {
    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined);
    if (!health?.ok) return false;
    if (workers === 1) return true;
    const redis = new Redis(redisUrl, { lazyConnect: true });
    try {
      await redis.connect();
      return (await redis.scard(`${run}:nodes`)) >= workers;
    } finally {
      redis.disconnect();
    }
  };
}

async function startGateway(workers: number, httpPort: number, sipPort: number, redis: BenchRedis, run: string): Promise<SwitchboardProcess> {
  return SwitchboardProcess.start({ workers, config: gatewayConfig(workers, httpPort, sipPort, redis.url, run), ready: readyCheck(httpPort, workers, redis.url, run) });
}

/** CPU of each gateway process (all threads, JS thread) over a window, % of one core. */
function cpuWindow(pids: number[]): () => { totalPct: number[]; jsPct: number[]; machinePct: number | undefined } {
  const before = pids.map((pid) => ({ total: processCpuMs(pid), threads: threadCpu(pid) }));
  const machine = machineCpu();
  const started = performance.now();
  return () => {
    const wall = performance.now() - started;
    const after = pids.map((pid) => ({ total: processCpuMs(pid), threads: threadCpu(pid) }));
    const machineAfter = machineCpu();
    return {
      totalPct: after.map((a, i) => (100 * ((a.total ?? 0) - (before[i]!.total ?? 0))) / wall),
      jsPct: after.map((a, i) => threadShares(before[i]!.threads, a.threads, wall)?.find((s) => s.thread === 'main (JS)')?.cpuPct ?? NaN),
      machinePct: machine && machineAfter ? (100 * (machineAfter.busyMs - machine.busyMs)) / wall : undefined,
    };
  };
}

// ---------------------------------------------------------------- anchored media

interface MediaRun {
  workers: number;
  calls: number;
  placed: number;
  gatewayPct: number[];
  jsPct: number[];
  machinePct: number | undefined;
  lossPct: number;
  rttMs: Percentiles;
  /** Calls the busiest JS thread could carry at 100 % (the limit of one process). */
  jsBoundCalls: number;
}

async function mediaRun(workers: number, calls: number, redis: BenchRedis, log: (line: string) => void): Promise<MediaRun> {
  const httpPort = await freeTcpPort();
  const gateway = await startGateway(workers, httpPort, await freeTcpPort(), redis, `media${workers}x${calls}`);
  const meter = new LoadMeter();
  const pacer = new Pacer();
  pacer.start();
  const placed: BrowserCall[] = [];
  try {
    const pending = Array.from({ length: calls }, (_, i) => i);
    const worker = async () => {
      for (let i = pending.shift(); i !== undefined; i = pending.shift()) {
        // Capacity, not set-up time, is measured here: no set-up may be lost to the driver's own
        // DTLS race, as there is no retry (bench/browser-peer.ts).
        placed.push(await BrowserCall.place(`ws://127.0.0.1:${httpPort}/ws`, `m${workers}x${i}`, 'service:echo', meter, pacer, { candidatesAfterAnswer: true }));
      }
    };
    await withTimeout(Promise.all(Array.from({ length: 10 }, worker)), `${calls} echo calls`, 120_000);
    await sleep(2000);
    const window = cpuWindow(gateway.pids);
    meter.begin(SETTINGS.mediaWindowMs);
    await sleep(SETTINGS.mediaWindowMs + 1000);
    const cpu = window();
    const figures = meter.figures();
    const busiest = Math.max(...cpu.jsPct);
    const run: MediaRun = {
      workers,
      calls,
      placed: placed.length,
      gatewayPct: cpu.totalPct,
      jsPct: cpu.jsPct,
      machinePct: cpu.machinePct,
      // Echo: what the browsers sent in the window against what came back of it.
      lossPct: figures.up.sent === 0 ? NaN : (100 * Math.max(0, figures.up.sent - figures.down.received)) / figures.up.sent,
      rttMs: figures.down.latencyMs,
      jsBoundCalls: calls / (busiest / 100),
    };
    log(`media ${workers} process(es), ${calls} calls: gateway ${cpu.totalPct.map((p) => fixed(p)).join(' + ')} %, JS ${cpu.jsPct.map((p) => fixed(p)).join(' + ')} %, loss ${fixed(run.lossPct, 2)} %`);
    return run;
  } finally {
    pacer.stop();
    for (const call of placed) call.close();
    await gateway.stop();
  }
}

// ---------------------------------------------------------------- SIP set-up

interface SipRun {
  workers: number;
  rate: number;
  attempted: number;
  succeeded: number;
  failedPct: number;
  setupMs: Percentiles;
  gatewayPct: number[];
  jsPct: number[];
  machinePct: number | undefined;
}

/** Which SIP port holds each user: with workers, the worker the user landed on (as the edge would route it). */
async function usersBySipPort(workers: number, sipPort: number, names: string[], redisUrl: string, run: string): Promise<Map<number, string[]>> {
  if (workers === 1) return new Map([[sipPort, names]]);
  const redis = new Redis(redisUrl);
  try {
    const entries = await redis.hgetall(`${run}:users`);
    const byPort = new Map<number, string[]>();
    for (const name of names) {
      const nodeId = (JSON.parse(entries[name] ?? '{}') as { nodeId?: string }).nodeId ?? '';
      const index = Number(/-w(\d+)$/.exec(nodeId)?.[1] ?? 0);
      const port = sipPort + 2 * index;
      byPort.set(port, [...(byPort.get(port) ?? []), name]);
    }
    return byPort;
  } finally {
    redis.disconnect();
  }
}

async function sipRuns(workers: number, redis: BenchRedis, keep: AnsweringWebUsers[], log: (line: string) => void): Promise<SipRun[]> {
  const httpPort = await freeTcpPort();
  const sipPort = 41_000 + 10 * Math.floor(Math.random() * 1000);
  const run = `sip${workers}`;
  const gateway = await startGateway(workers, httpPort, sipPort, redis, run);
  const users = await AnsweringWebUsers.login(httpPort, SETTINGS.sipUsers, `sip${workers}u`);
  keep.push(users);
  const runs: SipRun[] = [];
  try {
    const byPort = await usersBySipPort(workers, sipPort, users.names, redis.url, run);
    for (const rate of SETTINGS.sipRates) {
      const window = cpuWindow(gateway.pids);
      const steps = await Promise.all(
        [...byPort].map(async ([port, names], i) => {
          const share = rate / byPort.size;
          const calls = Math.round(share * SETTINGS.sipStepSeconds);
          const base = 50_000 + 100 * i + 10 * Math.floor(Math.random() * 8);
          const result = await runSippStep({
            remote: `127.0.0.1:${port}`,
            localPort: base,
            controlPort: base + 1,
            mediaPort: base + 4,
            users: names,
            rate: share,
            calls,
            holdMs: SETTINGS.sipHoldMs,
            timeoutS: SETTINGS.sipStepSeconds + 20,
            answerTimeoutMs: 8000,
          });
          return { calls, result };
        }),
      );
      const cpu = window();
      const attempted = steps.reduce((sum, s) => sum + s.calls, 0);
      const succeeded = steps.reduce((sum, s) => sum + s.result.successful, 0);
      const entry: SipRun = {
        workers,
        rate,
        attempted,
        succeeded,
        failedPct: (100 * (attempted - succeeded)) / attempted,
        setupMs: percentiles(steps.flatMap((s) => s.result.setupMs)),
        gatewayPct: cpu.totalPct,
        jsPct: cpu.jsPct,
        machinePct: cpu.machinePct,
      };
      runs.push(entry);
      log(`SIP ${workers} process(es), ${rate} calls/s: ${succeeded}/${attempted} ok, setup p50 ${formatMs(entry.setupMs.p50)} p99 ${formatMs(entry.setupMs.p99)} ms, gateway ${cpu.totalPct.map((p) => fixed(p)).join(' + ')} %`);
      const deadline = performance.now() + 15_000;
      while (users.openEndpoints > 0 && performance.now() < deadline) await sleep(250);
      await sleep(1000);
      if (entry.failedPct > 10) break;
    }
    return runs;
  } finally {
    users.close();
    await gateway.stop();
  }
}

// ---------------------------------------------------------------- signaling round trip

interface Probe {
  name: string;
  socket: WebSocket;
  next(type: ServerMessage['type'], callId?: string): Promise<number>;
}

async function probe(httpPort: number, name: string): Promise<Probe> {
  const socket = new WebSocket(`ws://127.0.0.1:${httpPort}/ws`, { perMessageDeflate: false });
  const waiters: { type: string; callId?: string; resolve: (at: number) => void }[] = [];
  const incoming: ((callId: string) => void)[] = [];
  socket.on('message', (data) => {
    const at = performance.now();
    const frame = JSON.parse(String(data)) as ServerMessage & { callId?: string };
    if (frame.type === 'incoming') for (const onIncoming of incoming) onIncoming(frame.callId!);
    const index = waiters.findIndex((w) => w.type === frame.type && (w.callId === undefined || w.callId === frame.callId));
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(at);
  });
  await withTimeout(new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject)), `${name}: connect`);
  const next = (type: ServerMessage['type'], callId?: string) => new Promise<number>((resolve) => waiters.push({ type, ...(callId ? { callId } : {}), resolve }));
  const welcome = next('welcome');
  socket.send(JSON.stringify({ type: 'login', protocol: 1, name } satisfies ClientMessage));
  await withTimeout(welcome, `${name}: welcome`);
  // The callee side answers at once, as the signaling benchmark's callee does.
  incoming.push((callId) => socket.send(JSON.stringify({ type: 'accept', callId, sdp: ANSWER } satisfies ClientMessage)));
  return { name, socket, next };
}

const OFFER = browserSdp('offer');
const ANSWER = browserSdp('answer');

async function roundTrips(redis: BenchRedis, log: (line: string) => void): Promise<{ same: Percentiles; cross: Percentiles }> {
  const httpPort = await freeTcpPort();
  const run = 'rtt';
  const gateway = await startGateway(2, httpPort, await freeTcpPort(), redis, run);
  const probes: Probe[] = [];
  const inspect = new Redis(redis.url);
  try {
    for (let i = 0; i < 6; i++) probes.push(await probe(httpPort, `rtt${i}`));
    const entries = await inspect.hgetall(`${run}:users`);
    const nodeOf = (p: Probe) => (JSON.parse(entries[p.name]!) as { nodeId: string }).nodeId;
    const caller = probes[0]!;
    const same = probes.find((p) => p !== caller && nodeOf(p) === nodeOf(caller));
    const cross = probes.find((p) => nodeOf(p) !== nodeOf(caller));
    if (!same || !cross) throw new Error('the probes did not land on both workers');
    const samples = { same: [] as number[], cross: [] as number[] };
    for (let i = 0; i < SETTINGS.roundTrips * 2; i++) {
      const kind = i % 2 === 0 ? 'same' : 'cross';
      const callee = kind === 'same' ? same : cross;
      const callId = `rtt-${kind}-${i}-0000`;
      const answered = caller.next('answered', callId);
      const ended = callee.next('ended', callId);
      const sentAt = performance.now();
      caller.socket.send(JSON.stringify({ type: 'call', callId, to: `web:${callee.name}`, sdp: OFFER } satisfies ClientMessage));
      samples[kind].push((await withTimeout(answered, `answered ${callId}`)) - sentAt);
      caller.socket.send(JSON.stringify({ type: 'hangup', callId } satisfies ClientMessage));
      await withTimeout(ended, `ended ${callId}`);
      await sleep(20);
    }
    const result = { same: percentiles(samples.same), cross: percentiles(samples.cross) };
    log(`round trip same worker p50 ${formatMs(result.same.p50)} p99 ${formatMs(result.same.p99)} ms; across workers p50 ${formatMs(result.cross.p50)} p99 ${formatMs(result.cross.p99)} ms`);
    return result;
  } finally {
    for (const p of probes) p.socket.terminate();
    inspect.disconnect();
    await gateway.stop();
  }
}

// ---------------------------------------------------------------- report

function buildResult(media: MediaRun[], sip: SipRun[], rtt: { same: Percentiles; cross: Percentiles }): BenchmarkResult {
  const sustained = (workers: number) => Math.max(0, ...sip.filter((r) => r.workers === workers && r.failedPct < 1).map((r) => r.rate));
  const mediaRatio = (calls: number) => {
    const one = media.find((r) => r.workers === 1 && r.calls === calls);
    const two = media.find((r) => r.workers === 2 && r.calls === calls);
    return one && two ? two.jsBoundCalls / one.jsBoundCalls : NaN;
  };
  const sipOne = sustained(1);
  const sipTwo = sustained(2);
  const notes = [
    `Anchored calls per machine, --workers 2 vs one process, when the busiest JS thread is the limit: ${SETTINGS.mediaCalls.map((n) => `${fixed(mediaRatio(n), 2)}x at ${n} calls`).join(', ')} ` +
      '(calls the busiest gateway JS thread would carry at 100 %; each process anchors the calls whose browsers landed on it).',
    `SIP call set-ups sustained with under 1 % failed calls: ${sipOne} calls/s with one process, ${sipTwo} calls/s with --workers 2 (${sipOne > 0 ? fixed(sipTwo / sipOne, 2) : 'n/a'}x), among the rates tried (${SETTINGS.sipRates.join(', ')}).`,
    `Signaling round trip across workers (the Redis bus twice, and the set-up's open request) adds ${fixed(rtt.cross.p50 - rtt.same.p50, 2)} ms at p50 and ${fixed(rtt.cross.p99 - rtt.same.p99, 2)} ms at p99.`,
    'This machine has 2 cores for everything: the gateway processes, Redis, sipp and this driver (its node-datachannel browsers do ICE, DTLS-SRTP and RTP too). ' +
      'A second worker gives the gateway a second JS thread, but the machine has no third core for the driver: total throughput is bounded by the machine ("machine busy" near 200), ' +
      'and the per-JS-thread figure shows what the gateway alone would scale to with the load driven from elsewhere.',
    'One process is the default (memory directory); --workers 2 is the real CLI (cluster module, shared HTTP port, SIP ports 2 apart, media ranges split, Redis directory).',
  ];
  return {
    method:
      'The switchboard CLI started as one process and as --workers 2, a fresh one per measurement, everything on loopback. Media: N node-datachannel browsers ' +
      `log in through the shared HTTP port and call service:echo (anchored: ICE + DTLS-SRTP to the gateway, PCMU echoed back), 50 packets/s each way; CPU over ${SETTINGS.mediaWindowMs / 1000} s ` +
      `from /proc. SIP: ${SETTINGS.sipUsers} auto-answering web users, sipp at each total rate for ${SETTINGS.sipStepSeconds} s (one sipp per worker, calling the users that worker holds), ` +
      `calls held ${SETTINGS.sipHoldMs / 1000} s. Round trip: ${SETTINGS.roundTrips} calls each between two users on one worker and on two workers of --workers 2, relayed media, a browser-sized SDP.`,
    tables: [
      {
        title: 'Anchored echo calls (CPU % of one core; one figure per gateway process)',
        headers: ['Processes', 'Calls', 'Gateway all threads', 'Gateway JS thread', 'Machine busy (200 = both cores)', 'Echo loss %', 'Echo RTT p50 / p99 (ms)', 'Calls at 100 % of the busiest JS thread'],
        rows: media.map((r) => [
          String(r.workers), String(r.calls), r.gatewayPct.map((p) => fixed(p)).join(' + '), r.jsPct.map((p) => fixed(p)).join(' + '),
          fixed(r.machinePct, 0), fixed(r.lossPct, 2), `${formatMs(r.rttMs.p50)} / ${formatMs(r.rttMs.p99)}`, fixed(r.jsBoundCalls, 0),
        ]),
      },
      {
        title: 'SIP call set-up (INVITE -> 200 at sipp, ms)',
        headers: ['Processes', 'Rate (calls/s)', 'Attempted', 'Succeeded', 'Failed %', 'Setup p50', 'p99', 'Gateway all threads', 'Gateway JS thread', 'Machine busy'],
        rows: sip.map((r) => [
          String(r.workers), String(r.rate), String(r.attempted), String(r.succeeded), fixed(r.failedPct, 2), formatMs(r.setupMs.p50), formatMs(r.setupMs.p99),
          r.gatewayPct.map((p) => fixed(p)).join(' + '), r.jsPct.map((p) => fixed(p)).join(' + '), fixed(r.machinePct, 0),
        ]),
      },
      {
        title: 'Signaling round trip, call -> answered (ms)',
        headers: ['Callee', 'p50', 'p90', 'p99', 'max'],
        rows: [
          ['same worker', formatMs(rtt.same.p50), formatMs(rtt.same.p90), formatMs(rtt.same.p99), formatMs(rtt.same.max)],
          ['other worker (Redis bus)', formatMs(rtt.cross.p50), formatMs(rtt.cross.p90), formatMs(rtt.cross.p99), formatMs(rtt.cross.max)],
        ],
      },
    ],
    notes,
    data: { settings: SETTINGS, media, sip, roundTrip: rtt },
  };
}

export const clusterBenchmark: Benchmark = {
  name: 'cluster',
  description: 'One process vs switchboard --workers 2 on this machine: anchored calls, SIP call set-ups, and the signaling round trip within a worker and across workers.',
  async run(log) {
    const redis = await BenchRedis.start();
    const keep: AnsweringWebUsers[] = [];
    try {
      const media: MediaRun[] = [];
      for (const calls of SETTINGS.mediaCalls) for (const workers of SETTINGS.workers) media.push(await mediaRun(workers, calls, redis, log));
      const sip: SipRun[] = [];
      for (const workers of SETTINGS.workers) sip.push(...(await sipRuns(workers, redis, keep, log)));
      const rtt = await roundTrips(redis, log);
      return buildResult(media, sip, rtt);
    } finally {
      await redis.stop();
      for (const users of keep) users.close();
      // node-datachannel's threads would keep the benchmark process alive.
      BrowserCall.releaseNative();
    }
  },
};
