/**
 * Signaling benchmark: N idle, logged-in WebSocket clients against one gateway (RSS per connection,
 * time to log them all in), then the call offer/answer relay round trip between two more clients
 * while the N stay connected. The gateway runs in a child process (see gateway-process.ts), a fresh
 * one per N so that runs do not inherit each other's heap.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import type { ClientMessage, ServerMessage } from '../src/protocol/messages.js';
import { GatewayProcess, withTimeout } from './gateway-process.js';
import { capToOpenFileLimit, formatKiB, formatMiB, formatMs as ms, percentiles } from './run.js';
import type { Benchmark, BenchmarkResult, Percentiles } from './run.js';

const DEFAULT_CLIENT_COUNTS = [1000, 5000, 10_000];
/** Connects in flight at once: fast, yet well under the listen backlog (511), so no SYN is dropped. */
const CONNECT_CONCURRENCY = 200;
const CALLS_PER_RUN = 300;
/**
 * One call setup per 50 ms: the caller sends two frames per call (call, hangup) under the default
 * rate limit of 50 frames/s per connection, and calls do not queue behind each other.
 */
const CALL_INTERVAL_MS = 50;
const SETTLE_MS = 2000; // pause before a memory reading, so sockets and buffers have settled
const FRAME_TIMEOUT_MS = 10_000;
/** File descriptors per process beyond one per client: stdio, IPC, listeners, libuv, the 2 probe clients. */
const FD_HEADROOM = 102;

/**
 * A browser-like SDP (~3 KB, Chrome's shape: BUNDLEd audio + video, DTLS, extmaps, rtcp-fb, ssrcs, loopback
 * host candidates): the gateway filters the candidates of the SDP it relays, and frame size drives the cost.
 */
export function browserSdp(role: 'offer' | 'answer'): string {
  const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
  const ice = [`a=ice-ufrag:${hex(2)}`, `a=ice-pwd:${randomBytes(18).toString('base64')}`, 'a=ice-options:trickle'];
  const fingerprint = `a=fingerprint:sha-256 ${(hex(32).match(/../g) ?? []).join(':').toUpperCase()}`;
  const port = role === 'offer' ? 50_000 : 51_000;
  const transport = (mid: number): string[] => [
    `a=candidate:${1000 + mid} 1 udp 2122260223 127.0.0.1 ${port + mid} typ host generation 0 network-id 1`,
    `a=candidate:${2000 + mid} 1 udp 2122194687 127.0.0.2 ${port + 10 + mid} typ host generation 0 network-id 2`,
    `a=candidate:${3000 + mid} 1 udp 2122129151 ::1 ${port + 20 + mid} typ host generation 0 network-id 3`,
    `a=candidate:${4000 + mid} 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active generation 0 network-id 1`,
    ...ice, fingerprint, `a=setup:${role === 'offer' ? 'actpass' : 'active'}`, `a=mid:${mid}`,
  ];
  const videoCodec = (pt: number, name: string, fmtp?: string): string[] => [
    `a=rtpmap:${pt} ${name}/90000`,
    ...['goog-remb', 'transport-cc', 'ccm fir', 'nack', 'nack pli'].map((fb) => `a=rtcp-fb:${pt} ${fb}`),
    ...(fmtp ? [`a=fmtp:${pt} ${fmtp}`] : []),
    `a=rtpmap:${pt + 1} rtx/90000`, `a=fmtp:${pt + 1} apt=${pt}`,
  ];
  const cname = hex(8);
  return [
    'v=0', `o=- ${BigInt(`0x${hex(7)}`)} 2 IN IP4 127.0.0.1`, 's=-', 't=0 0',
    'a=group:BUNDLE 0 1', 'a=extmap-allow-mixed', 'a=msid-semantic: WMS stream0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 110 126', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
    ...transport(0),
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
    'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid', 'a=sendrecv', 'a=msid:stream0 audio0', 'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2', 'a=rtcp-fb:111 transport-cc', 'a=fmtp:111 minptime=10;useinbandfec=1',
    'a=rtpmap:63 red/48000/2', 'a=fmtp:63 111/111', 'a=rtpmap:9 G722/8000', 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000',
    'a=rtpmap:110 telephone-event/48000', 'a=rtpmap:126 telephone-event/8000', `a=ssrc:1001 cname:${cname}`,
    'a=ssrc:1001 msid:stream0 audio0',
    'm=video 9 UDP/TLS/RTP/SAVPF 96 97 98 99 102 103', 'c=IN IP4 0.0.0.0', 'a=rtcp:9 IN IP4 0.0.0.0',
    ...transport(1),
    'a=extmap:14 urn:ietf:params:rtp-hdrext:toffset', 'a=extmap:13 urn:3gpp:video-orientation',
    'a=sendrecv', 'a=msid:stream0 video0', 'a=rtcp-mux', 'a=rtcp-rsize',
    ...videoCodec(96, 'VP8'), ...videoCodec(98, 'VP9', 'profile-id=0'),
    ...videoCodec(102, 'H264', 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f'),
    'a=ssrc-group:FID 2001 2002', `a=ssrc:2001 cname:${cname}`, `a=ssrc:2002 cname:${cname}`,
    '',
  ].join('\r\n');
}

/** One offer and one answer serve every call: the relay's cost does not depend on their values. */
const OFFER = browserSdp('offer');
const ANSWER = browserSdp('answer');

// ---------------------------------------------------------------- clients

/** Opens a client (added to `opened` at once, for cleanup) and logs it in; `loginMs` is connect-to-welcome. */
function connectAndLogin(url: string, name: string, opened: WebSocket[]): Promise<{ socket: WebSocket; loginMs: number }> {
  const started = performance.now();
  // Compression off, as on the gateway: it would cost memory per socket on both sides.
  const socket = new WebSocket(url, { perMessageDeflate: false });
  opened.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => socket.send(JSON.stringify({ type: 'login', protocol: 1, name } satisfies ClientMessage)));
    socket.once('message', (data) => {
      const loginMs = performance.now() - started;
      if ((JSON.parse(String(data)) as ServerMessage).type === 'welcome') resolve({ socket, loginMs });
      else reject(new Error(`${name}: expected welcome, got ${String(data)}`));
    });
    socket.on('error', reject); // stays attached: an 'error' event without a listener would crash the run
    socket.once('close', (code) => reject(new Error(`${name}: closed (${code}) before welcome`)));
  });
}

/** Logs in clients u0..u<count-1>, CONNECT_CONCURRENCY at a time; returns each login's ms. */
async function loginIdleClients(url: string, count: number, opened: WebSocket[]): Promise<number[]> {
  const loginMs: number[] = [];
  let next = 0;
  let failed = false; // after a failure, stop opening sockets the caller is about to close
  const worker = async (): Promise<void> => {
    while (next < count && !failed) loginMs.push((await connectAndLogin(url, `u${next++}`, opened)).loginMs);
  };
  const workers = Array.from({ length: Math.min(CONNECT_CONCURRENCY, count) }, worker);
  await withTimeout(Promise.all(workers), `log in ${count} clients`).catch((error: unknown) => {
    failed = true;
    throw error;
  });
  return loginMs;
}

async function closeClients(sockets: WebSocket[]): Promise<void> {
  const open = sockets.filter((socket) => socket.readyState !== WebSocket.CLOSED);
  const closed = Promise.all(open.map((socket) => once(socket, 'close')));
  for (const socket of open) socket.close(1000);
  await withTimeout(closed, 'close clients', 20_000).catch(() => {
    for (const socket of open) socket.terminate(); // no closing handshake in time: drop the TCP connections
  });
}

type Waiter = { match: (frame: ServerMessage) => boolean; settle: (result: number | Error) => void };

/** A logged-in client that waits for specific frames and notes when each arrived. */
class ProbeClient {
  readonly #waiters = new Set<Waiter>();

  constructor(private readonly socket: WebSocket, readonly name: string) {
    socket.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(String(data)) as ServerMessage;
      // An error frame fails every pending wait at once rather than letting them time out.
      const failure = frame.type === 'error' ? new Error(`${name} got ${String(data)}`) : undefined;
      for (const waiter of this.#waiters) if (failure || waiter.match(frame)) waiter.settle(failure ?? at);
    });
  }

  /** Resolves with the arrival time (performance.now()) of the first matching frame from now on. */
  next(match: (frame: ServerMessage) => boolean, label: string): Promise<number> {
    const arrival = new Promise<number>((resolve, reject) => {
      const timeout = (): void => waiter.settle(new Error(`${this.name}: no ${label} in ${FRAME_TIMEOUT_MS} ms`));
      const timer = setTimeout(timeout, FRAME_TIMEOUT_MS);
      const waiter: Waiter = {
        match,
        settle: (result) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          if (typeof result === 'number') resolve(result); else reject(result);
        },
      };
      this.#waiters.add(waiter);
    });
    arrival.catch(() => {}); // awaited later, or never if an earlier step failed: no unhandled rejection
    return arrival;
  }

  send(frame: ClientMessage): void {
    this.socket.send(JSON.stringify(frame));
  }
}

/** Sequential, paced call setups caller -> callee; per call: `call`->`ack` and `call`->`answered` ms. */
async function measureCalls(caller: ProbeClient, callee: ProbeClient, tag: string): Promise<Record<'ackMs' | 'roundTripMs', number[]>> {
  const ackMs: number[] = [];
  const roundTripMs: number[] = [];
  const start = performance.now();
  for (let i = 0; i < CALLS_PER_RUN; i++) {
    const callId = `${tag}-${i}-${randomBytes(4).toString('hex')}`;
    const requestId = `call-${i}`;
    const acked = caller.next((f) => f.type === 'ack' && f.id === requestId, `ack of ${callId}`);
    const answered = caller.next((f) => f.type === 'answered' && f.callId === callId, `answered for ${callId}`);
    const incoming = callee.next((f) => f.type === 'incoming' && f.callId === callId, `incoming ${callId}`);
    const sentAt = performance.now();
    caller.send({ type: 'call', id: requestId, callId, to: `web:${callee.name}`, sdp: OFFER });
    await incoming;
    callee.send({ type: 'accept', callId, sdp: ANSWER }); // no id: the callee needs no ack
    ackMs.push((await acked) - sentAt);
    roundTripMs.push((await answered) - sentAt);
    // End the call (calls per connection are limited) and wait until the callee knows.
    const ended = callee.next((f) => f.type === 'ended' && f.callId === callId, `ended ${callId}`);
    caller.send({ type: 'hangup', callId });
    await ended;
    await sleep(Math.max(0, start + (i + 1) * CALL_INTERVAL_MS - performance.now()));
  }
  return { ackMs, roundTripMs };
}

interface RunFigures {
  clients: number;
  login: { totalMs: number; perSecond: number; latencyMs: Percentiles; gatewayCpuUsPerLogin: number };
  memory: { before: NodeJS.MemoryUsage; loaded: NodeJS.MemoryUsage; afterClose: NodeJS.MemoryUsage };
  perConnection: { rssBytes: number; heapUsedBytes: number };
  calls: { count: number; offerAnswerMs: Percentiles; ackMs: Percentiles };
}

async function runWithClients(clients: number, log: (line: string) => void): Promise<RunFigures> {
  const gateway = await GatewayProcess.start();
  const url = `ws://127.0.0.1:${gateway.httpPort}/ws`;
  const sockets: WebSocket[] = [];
  try {
    const before = await gateway.stats();
    log(`N=${clients}: gateway pid ${gateway.pid} up (RSS ${formatMiB(before.memory.rss)} MiB), logging in`);
    const loginStart = performance.now();
    const loginMs = await loginIdleClients(url, clients, sockets);
    const totalMs = performance.now() - loginStart;
    const afterLogin = await gateway.stats();
    await sleep(SETTLE_MS);
    const loaded = await gateway.stats();
    log(`N=${clients}: all in after ${(totalMs / 1000).toFixed(2)} s, RSS ${formatMiB(loaded.memory.rss)} MiB; calling`);

    const probe = async (name: string): Promise<ProbeClient> =>
      new ProbeClient((await connectAndLogin(url, name, sockets)).socket, name);
    const calls = await measureCalls(await probe('bench-caller'), await probe('bench-callee'), `n${clients}`);

    await closeClients(sockets);
    await sleep(SETTLE_MS);
    const afterClose = await gateway.stats();
    const cpuUs = afterLogin.cpu.user + afterLogin.cpu.system - (before.cpu.user + before.cpu.system);
    return {
      clients,
      login: { totalMs, perSecond: clients / (totalMs / 1000), latencyMs: percentiles(loginMs), gatewayCpuUsPerLogin: cpuUs / clients },
      memory: { before: before.memory, loaded: loaded.memory, afterClose: afterClose.memory },
      perConnection: {
        rssBytes: (loaded.memory.rss - before.memory.rss) / clients,
        heapUsedBytes: (loaded.memory.heapUsed - before.memory.heapUsed) / clients,
      },
      calls: { count: CALLS_PER_RUN, offerAnswerMs: percentiles(calls.roundTripMs), ackMs: percentiles(calls.ackMs) },
    };
  } finally {
    await closeClients(sockets); // no-op after a clean run; frees the sockets after a failure
    await gateway.stop();
  }
}

/** Client counts from BENCH_CLIENTS (default 1000,5000,10000), capped to what `ulimit -n` allows. */
function clientCounts(notes: string[]): number[] {
  const requested = process.env.BENCH_CLIENTS?.split(',').map((s) => Number(s.trim())) ?? DEFAULT_CLIENT_COUNTS;
  if (requested.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`BENCH_CLIENTS must list positive integers, e.g. 1000,5000; got "${process.env.BENCH_CLIENTS}"`);
  }
  // One fd per client in this process and one in the gateway, which inherits this process's limit.
  return capToOpenFileLimit(requested, FD_HEADROOM, 'client', notes);
}

function report(runs: RunFigures[], notes: string[]): BenchmarkResult {
  return {
    method:
      `A fresh gateway in a child process per N. Clients (package ws, no compression) connect to 127.0.0.1, ` +
      `${CONNECT_CONCURRENCY} connects in flight, and log in anonymously as u<i>. With all N connected, ` +
      `a caller and a callee run ${CALLS_PER_RUN} call setups with a ${OFFER.length}-byte browser-like SDP. ` +
      'Offer/answer round trip: `call` sent -> `incoming` at callee -> `accept` sent -> `answered` at caller; ack: `call` -> `ack`.',
    tables: [
      {
        title: 'Idle connections',
        headers: ['Clients', 'Log in all (s)', 'Logins/s', 'Login p50 / p99 (ms)', 'Gateway CPU/login (µs)',
          'RSS idle → N → closed (MiB)', 'RSS/conn (KiB)', 'Heap idle → N → closed (MiB)', 'Heap/conn (KiB)'],
        rows: runs.map(({ clients, login, memory: { before, loaded, afterClose }, perConnection }) => [
          String(clients), (login.totalMs / 1000).toFixed(2), login.perSecond.toFixed(0),
          `${ms(login.latencyMs.p50)} / ${ms(login.latencyMs.p99)}`, login.gatewayCpuUsPerLogin.toFixed(0),
          [before, loaded, afterClose].map((m) => formatMiB(m.rss)).join(' → '), formatKiB(perConnection.rssBytes),
          [before, loaded, afterClose].map((m) => formatMiB(m.heapUsed)).join(' → '), formatKiB(perConnection.heapUsedBytes),
        ]),
      },
      {
        title: `Call setup with N idle clients connected (${CALLS_PER_RUN} calls, ms)`,
        headers: ['Idle clients', 'Offer/answer p50', 'p90', 'p99', 'max', 'Ack p50', 'p90', 'p99', 'max'],
        rows: runs.map(({ clients, calls: { offerAnswerMs: o, ackMs: a } }) =>
          [String(clients), ms(o.p50), ms(o.p90), ms(o.p99), ms(o.max), ms(a.p50), ms(a.p90), ms(a.p99), ms(a.max)]),
      },
    ],
    notes: [
      ...notes,
      'Memory is read in the gateway process after a forced GC, before login and 2 s after the last welcome; ' +
        'per-connection figures are the difference divided by N. Kernel socket buffers are not part of RSS. ' +
        '"closed" is 2 s after all clients closed: RSS stays up as the allocator keeps freed pages.',
      `Calls run one at a time, one every ${CALL_INTERVAL_MS} ms (the default rate limit is 50 frames/s per connection), ` +
        'each hung up before the next. Both ends are in the benchmark process, so times include its event loop.',
      'The gateway pings every connection every 30 s; a sweep over N sockets that falls in the call phase shows in p99/max.',
    ],
    data: { callsPerRun: CALLS_PER_RUN, callIntervalMs: CALL_INTERVAL_MS, sdpBytes: OFFER.length, runs },
  };
}

export const signalingBenchmark: Benchmark = {
  name: 'signaling',
  description:
    'N idle authenticated WebSocket clients against one gateway, and the call offer/answer relay round trip under that load.',
  async run(log): Promise<BenchmarkResult> {
    const notes: string[] = [];
    const runs: RunFigures[] = [];
    for (const clients of clientCounts(notes)) runs.push(await runWithClients(clients, log));
    return report(runs, notes);
  },
};
