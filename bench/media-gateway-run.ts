/**
 * One ramp of anchored calls through a fresh gateway child: browsers call
 * `tel:` numbers, phones answer, and each step of the ramp is measured once
 * the new calls have settled. With `profileDir`, the gateway runs under
 * --cpu-prof and its profile is summarised, cut to the last window.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrowserCall, type SetupTimes } from './browser-peer.js';
import { findProfile, summariseProfile, type ProfileSummary } from './cpu-profile.js';
import { startMediaGateway, type AnchorCounters, type MediaGatewayChild } from './media-gateway-process.js';
import { LoadMeter, Pacer } from './media-load.js';
import { awaitQuietMachine, busiestThreads, cpuProbe, measureWindow, SETTINGS, type GatewayStep } from './media-settings.js';
import { percentiles, type Percentiles } from './run.js';
import { UdpRtpPeer } from './udp-rtp-peer.js';

export interface GatewayRun {
  steps: GatewayStep[];
  idleRssBytes: number;
  stoppedBecause: string | undefined;
  firstFailure: string | undefined;
  profile?: ProfileSummary;
}

/** Answers the gateway's tel: offers with a UdpRtpPeer each (the phones), and hangs them up when told. */
function servePhones(gateway: MediaGatewayChild, meter: LoadMeter, pacer: Pacer): () => void {
  const phones = new Map<string, UdpRtpPeer>();
  const off = gateway.onReport((report) => {
    if (report.type === 'tel-ended') {
      phones.get(report.callId)?.close();
      phones.delete(report.callId);
    } else if (report.type === 'tel-offer') {
      UdpRtpPeer.create(meter, 'down')
        .then(async (phone) => {
          phones.set(report.callId, phone);
          await gateway.send({ cmd: 'tel-answer', callId: report.callId, sdp: phone.answer(report.sdp) });
          phone.start(pacer); // auto-answer: talk at once; the gateway drops what comes before its answer is set
        })
        .catch((error: unknown) => gateway.send({ cmd: 'tel-reject', callId: report.callId, detail: String(error) }).catch(() => {}));
    }
  });
  return () => {
    off();
    for (const phone of phones.values()) phone.close();
    phones.clear();
  };
}

/** Places calls `first`..`first+count-1`, `rampSetupConcurrency` at a time, each tried up to `setupAttempts` times. */
async function placeCalls(url: string, first: number, count: number, meter: LoadMeter, pacer: Pacer, calls: BrowserCall[]) {
  const times: SetupTimes[] = [];
  const failures: string[] = [];
  let retried = 0;
  let next = first;
  const worker = async (): Promise<void> => {
    while (next < first + count) {
      const index = next++;
      for (let attempt = 1; attempt <= SETTINGS.setupAttempts; attempt++) {
        try {
          const call = await BrowserCall.place(url, `b${index}-${attempt}`, `tel:${1000 + index}`, meter, pacer);
          calls.push(call);
          if (call.times) times.push(call.times);
          if (attempt > 1) retried += 1;
          break;
        } catch (error) {
          if (attempt === SETTINGS.setupAttempts) failures.push(error instanceof Error ? error.message : String(error));
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETTINGS.rampSetupConcurrency, count) }, worker));
  const pick = (key: keyof SetupTimes): Percentiles => percentiles(times.map((t) => t[key]));
  return { failures, retried, setupMs: { answeredMs: pick('answeredMs'), iceConnectedMs: pick('iceConnectedMs'), connectedMs: pick('connectedMs'), firstRtpMs: pick('firstRtpMs') } };
}

/** Why the ramp should stop after `step`, if it should. */
function stopReason(step: GatewayStep): string | undefined {
  const loss = Math.max(step.window.up.lossPct, step.window.down.lossPct);
  const busiest = step.gateway.mainPct ?? step.gateway.cpuPct;
  if (loss > SETTINGS.stopAtLossPct) return `loss ${loss.toFixed(1)}% > ${SETTINGS.stopAtLossPct}% at ${step.calls} calls`;
  if (busiest > SETTINGS.stopAtCpuPct) return `gateway JS thread at ${busiest.toFixed(0)}% of a core at ${step.calls} calls`;
  if (step.failedSetups > step.added / 10) return `${step.failedSetups} of ${step.added} call setups failed at ${step.calls} calls`;
  return undefined;
}

export async function runGateway(counts: number[], log: (line: string) => void, profileDir?: string): Promise<GatewayRun> {
  const { child: gateway, httpPort } = await startMediaGateway(profileDir ? { cpuProfileDir: profileDir } : {});
  const url = `ws://127.0.0.1:${httpPort}/ws`;
  const meter = new LoadMeter();
  const pacer = new Pacer();
  pacer.onLateness = (ms) => meter.lateness(ms);
  const closePhones = servePhones(gateway, meter, pacer);
  const calls: BrowserCall[] = [];
  const run: GatewayRun = { steps: [], idleRssBytes: 0, stoppedBecause: undefined, firstFailure: undefined };
  let window: { fromUs: number; toUs: number } | undefined;
  const tag = profileDir ? 'profile' : 'gateway';
  try {
    run.idleRssBytes = (await gateway.request({ cmd: 'stats', gc: true, resetLoopDelay: true }, 'stats')).memory.rss;
    pacer.start();
    for (const target of counts) {
      const added = target - calls.length;
      const { failures, retried, setupMs } = await placeCalls(url, calls.length + run.steps.reduce((n, s) => n + s.failedSetups, 0), added, meter, pacer, calls);
      run.firstFailure ??= failures[0];
      await sleep(SETTINGS.settleMs);
      const quietWaitMs = await awaitQuietMachine(gateway.pid);
      const before = await gateway.request({ cmd: 'stats', gc: false, resetLoopDelay: true }, 'stats');
      const anchorsBefore = await gateway.request({ cmd: 'media-stats' }, 'media-stats');
      const anchorsFrom = performance.now();
      const sendsBefore = { ...BrowserCall.sends };
      const stallsBefore = pacer.stalls;
      const probe = cpuProbe(gateway.pid);
      const figures = await measureWindow(meter);
      const after = await gateway.request({ cmd: 'stats', gc: false, resetLoopDelay: false }, 'stats');
      const cpuUs = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
      const { driver, childThreads, machine, wallMs } = probe(cpuUs / 10 / (after.hrtimeUs / 1000 - before.hrtimeUs / 1000));
      const anchors = await gateway.request({ cmd: 'media-stats' }, 'media-stats');
      const anchorsMs = performance.now() - anchorsFrom;
      const memory = (await gateway.request({ cmd: 'stats', gc: true, resetLoopDelay: false }, 'stats')).memory;
      window = { fromUs: before.hrtimeUs, toUs: after.hrtimeUs };
      const delta = (key: keyof AnchorCounters): number => anchors[key] - (key === 'calls' || key === 'connected' ? 0 : anchorsBefore[key]);
      const step: GatewayStep = {
        calls: calls.length,
        added,
        failedSetups: failures.length,
        retriedSetups: retried,
        setupMs,
        window: figures,
        gateway: {
          cpuPct: cpuUs / 10 / wallMs,
          mainPct: childThreads?.find((t) => t.thread === 'main (JS)')?.cpuPct,
          threads: childThreads,
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          loopDelayMs: after.loopDelayMs,
          anchorsMs,
          anchors: { calls: delta('calls'), connected: delta('connected'), webrtcIn: delta('webrtcIn'), webrtcOut: delta('webrtcOut'), rtpIn: delta('rtpIn'), rtpOut: delta('rtpOut') },
        },
        driver: { ...driver, sendMsPerSecond: ((BrowserCall.sends.totalMs - sendsBefore.totalMs) * 1000) / wallMs, pacerStalls: pacer.stalls - stallsBefore },
        machine,
        quietWaitMs,
      };
      run.steps.push(step);
      log(`${tag} ${step.calls} calls (${failures.length} failed, ${retried} retried): gateway CPU ${step.gateway.cpuPct.toFixed(1)}% ` +
        `(JS ${step.gateway.mainPct?.toFixed(1) ?? '?'}%), driver ${driver.cpuPct.toFixed(1)}%, others ${machine?.othersPct.toFixed(0) ?? '?'}%, ` +
        `loss ${figures.up.lossPct.toFixed(2)}/${figures.down.lossPct.toFixed(2)}%, p99 ${figures.up.latencyMs.p99.toFixed(2)}/${figures.down.latencyMs.p99.toFixed(2)} ms; ` +
        `threads: gateway ${busiestThreads(childThreads)}; driver ${busiestThreads(driver.threads)}`);
      run.stoppedBecause = stopReason(step);
      if (run.stoppedBecause) break;
    }
    if (profileDir) {
      // The profile is written when the gateway exits: stop it now, then read the file.
      pacer.stop();
      for (const call of calls) call.close();
      await gateway.stop();
      const file = await findProfile(profileDir, gateway.pid);
      if (file) run.profile = await summariseProfile(file, window);
      else log(`no CPU profile from gateway pid ${gateway.pid} (it ended with ${gateway.exitStatus ?? 'no status'})`);
    }
    return run;
  } finally {
    pacer.stop();
    for (const call of calls) call.close();
    closePhones();
    await gateway.stop();
  }
}
