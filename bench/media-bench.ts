/**
 * Media benchmark: anchored G.711 calls, each a node-datachannel "browser"
 * (ICE + DTLS-SRTP) <-> the gateway's anchor <-> a plain-RTP UDP "phone",
 * 50 packets/s each way with the send time in every payload. The number of
 * concurrent calls ramps up; at each step the gateway's CPU (its own forked
 * process, so no driver work is billed to it), memory, loss, one-way latency
 * and call setup time are measured. A plain UDP relay in a child process
 * carries the same streams first, as the machine's reference; one more run
 * at a single step profiles the gateway (BENCH_PROFILE=0 skips it).
 *
 * First, call set-up alone (issue #18): media-setup (node-datachannel browsers, both directions,
 * 10 and 50 set-ups in flight) and chromium-setup (the demo page in Chromium to service:echo, to
 * and from baresip, and relayed from SIP.js). BENCH_MEDIA_PARTS=setup,chromium,ramp picks parts.
 *
 * Files: media-settings (settings, figures, probes), media-load (pacer, RTP,
 * meter), browser-peer and udp-rtp-peer (the two parties), media-gateway-*
 * (the gateway child and one ramp through it), udp-relay-process (the
 * reference), cpu-profile and process-cpu (where the time goes), media-report.
 */
import { mkdir, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { BrowserCall } from './browser-peer.js';
import { runChromiumSetupsInChild } from './chromium-setup.js';
import { runGateway } from './media-gateway-run.js';
import { runSetups } from './media-setup.js';
import { LoadMeter, Pacer } from './media-load.js';
import { buildReport } from './media-report.js';
import { awaitQuietMachine, cpuProbe, measureWindow, SETTINGS, type MediaRun, type ReferenceStep } from './media-settings.js';
import type { Benchmark, BenchmarkResult } from './run.js';
import { startUdpRelay } from './udp-relay-process.js';
import { UdpRtpPeer } from './udp-rtp-peer.js';

// dist/bench/media-bench.js -> <package>/bench/results/profile/
const PROFILE_DIR = fileURLToPath(new URL('../../bench/results/profile/', import.meta.url));

/** The reference ramp: the same streams, 'up' A -> relay -> B and 'down' back, through a plain UDP relay. */
async function runReference(counts: number[], log: (line: string) => void): Promise<ReferenceStep[]> {
  const relay = await startUdpRelay();
  const meter = new LoadMeter();
  const pacer = new Pacer();
  pacer.onLateness = (ms) => meter.lateness(ms);
  const peers: UdpRtpPeer[] = [];
  const steps: ReferenceStep[] = [];
  try {
    pacer.start();
    for (const streams of counts) {
      const added = streams - peers.length / 2;
      const ends = await Promise.all(
        Array.from({ length: added }, async () => [await UdpRtpPeer.create(meter, 'up'), await UdpRtpPeer.create(meter, 'down')] as const),
      );
      for (const [a, b] of ends) peers.push(a, b);
      const { ports } = await relay.request({ cmd: 'add', streams: ends.map(([a, b]) => ({ aPeer: a.port, bPeer: b.port })) }, 'added');
      ends.forEach(([a, b], i) => {
        a.setRemote(ports[i]!.a);
        b.setRemote(ports[i]!.b);
        a.start(pacer);
        b.start(pacer);
      });
      // No setup to settle, only the new sockets' first packets: the (at least 1 s) wait for a quiet machine covers it.
      const quietWaitMs = await awaitQuietMachine(relay.pid);
      const before = await relay.request({ cmd: 'stats' }, 'stats');
      const probe = cpuProbe(relay.pid);
      const window = await measureWindow(meter);
      const after = await relay.request({ cmd: 'stats' }, 'stats');
      const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
      const wallMs = SETTINGS.windowMs + SETTINGS.graceMs;
      const { driver, machine } = probe(cpuUs / 10 / wallMs);
      steps.push({ streams, window, relay: { cpuPct: cpuUs / 10 / wallMs }, driver, machine, quietWaitMs });
      log(`reference ${streams} streams: relay CPU ${(cpuUs / 10 / wallMs).toFixed(1)}%, driver ${driver.cpuPct.toFixed(1)}%, ` +
        `others ${machine?.othersPct.toFixed(0) ?? '?'}%, loss ${window.up.lossPct.toFixed(2)}/${window.down.lossPct.toFixed(2)}%, ` +
        `p99 ${window.up.latencyMs.p99.toFixed(2)}/${window.down.latencyMs.p99.toFixed(2)} ms`);
    }
    return steps;
  } finally {
    pacer.stop();
    for (const peer of peers) peer.close();
    await relay.stop();
  }
}

export const mediaBenchmark: Benchmark = {
  name: 'media',
  description:
    'Anchored G.711 calls (node-datachannel browser <-> gateway anchor <-> plain-RTP UDP phone, 50 packets/s each way), ' +
    'ramped in concurrent calls: gateway CPU, memory, loss, one-way latency and call setup, against a plain UDP relay; ' +
    'and call set-up alone (offer to first RTP), with node-datachannel and with Chromium.',
  async run(log): Promise<BenchmarkResult> {
    const counts = SETTINGS.steps;
    if (counts.some((n, i) => !Number.isInteger(n) || n < 1 || (i > 0 && n <= counts[i - 1]!))) {
      throw new Error(`BENCH_CALLS must list increasing positive integers, e.g. 50,100,200; got "${process.env.BENCH_CALLS}"`);
    }
    try {
      const setup: MediaRun['setup'] = [];
      if (SETTINGS.parts.setup) {
        for (const direction of ['browser-calls', 'phone-calls'] as const) {
          for (const concurrency of SETTINGS.setupConcurrency) setup.push(await runSetups(direction, concurrency, SETTINGS.setupCalls, log));
        }
      }
      const chromium = SETTINGS.parts.chromium
        ? await runChromiumSetupsInChild(
            {
              'page-calls-echo': SETTINGS.chromiumEchoCalls,
              'page-calls-baresip': SETTINGS.chromiumPhoneCalls,
              'baresip-calls-page': SETTINGS.chromiumPhoneCalls,
              'sipjs-calls-page': SETTINGS.chromiumPhoneCalls,
              'sipjs-calls-page-silent-stun': SETTINGS.chromiumPhoneCalls,
            },
            log,
          )
        : [];
      if (!SETTINGS.parts.ramp) {
        return buildReport({ setup, chromium, reference: [], steps: [], idleRssBytes: 0, stoppedBecause: undefined, firstFailure: undefined, profile: undefined });
      }
      const reference = await runReference(counts, log);
      const gateway = await runGateway(counts, log);
      let profile: MediaRun['profile'];
      if (SETTINGS.profile) {
        await rm(PROFILE_DIR, { recursive: true, force: true });
        await mkdir(PROFILE_DIR, { recursive: true });
        const profiled = await runGateway([SETTINGS.profileCalls], log, PROFILE_DIR);
        const step = profiled.steps.at(-1);
        if (profiled.profile && step) profile = { ...profiled.profile, calls: step.calls, gatewayCpuPct: step.gateway.cpuPct, jsCpuPct: step.gateway.mainPct };
      }
      return buildReport({ setup, chromium, reference, ...gateway, profile });
    } finally {
      // Last: node-datachannel's threads would keep this process alive, and its wrappers must outlive them.
      BrowserCall.releaseNative();
    }
  },
};
