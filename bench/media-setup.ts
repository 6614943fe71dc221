/**
 * Call setup alone (issue #18): how long from a browser's offer until audio
 * flows, with a fixed number of set-ups in flight and no media load behind
 * them. Each call is the media benchmark's node-datachannel "browser" calling a
 * `tel:` UDP "phone" through a fresh gateway child (anchored); it is hung up as
 * soon as the first packet has arrived both ways, so the calls in flight are
 * only ever the set-ups themselves.
 *
 * A first wave of `concurrency` set-ups warms the gateway up and is not counted.
 *
 * Milestones, from the `call` frame (the offer) on the driver's clock:
 * answered (the `answered` frame), ICE connected and DTLS connected (the
 * browser's PeerConnection), first RTP at the phone (the browser's first
 * packet, sent the moment DTLS is up, out of the anchor) and first RTP at the
 * browser (the phone talks from its answer on).
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AnsweringBrowser } from './answering-browser.js';
import { BrowserCall, type SetupTimes } from './browser-peer.js';
import { withTimeout } from './gateway-process.js';
import { startMediaGateway, type MediaGatewayChild } from './media-gateway-process.js';
import { LoadMeter, Pacer } from './media-load.js';
import { awaitQuietMachine, cpuProbe, type MachineLoad } from './media-settings.js';
import { percentiles, type Percentiles } from './run.js';
import { UdpRtpPeer } from './udp-rtp-peer.js';

export interface SetupSample extends SetupTimes {
  /** The browser's first packet came out of the anchor at the phone. */
  firstRtpAtPhoneMs: number;
}

export type SetupMilestone = keyof SetupSample;

export const SETUP_MILESTONES: { key: SetupMilestone; label: string }[] = [
  { key: 'answeredMs', label: 'Answered' },
  { key: 'iceConnectedMs', label: 'ICE connected' },
  { key: 'connectedMs', label: 'DTLS connected' },
  { key: 'firstRtpAtPhoneMs', label: 'First RTP at the phone' },
  { key: 'firstRtpMs', label: 'First RTP at the browser' },
];

/** Set-ups slower than this count as the tail the issue is about. */
export const SLOW_SETUP_MS = 500;

export interface SetupRun {
  direction: SetupDirection;
  concurrency: number;
  calls: number;
  failed: number;
  retried: number;
  firstFailure: string | undefined;
  /** Why set-up attempts failed (retried ones included), message -> count. */
  failureCauses: Record<string, number>;
  ms: Record<SetupMilestone, Percentiles>;
  /** Set-ups whose first RTP at the phone took over SLOW_SETUP_MS. */
  slow: number;
  wallMs: number;
  /** The gateway child's CPU over the run, % of one core. */
  gatewayCpuPct: number;
  machine: MachineLoad | undefined;
  loadAverage: number;
  quietWaitMs: number;
  /** Every sample, for the JSON file. */
  samples: SetupSample[];
}

const PHONE_WAIT_MS = 5000;
/** Call numbers of the warm-up wave, beyond any measured call's. */
const WARM_UP_INDEX = 100_000;

/** Answers the gateway's tel: offers with a phone each; `phoneFor` finds a call's phone by its call id. */
function servePhones(gateway: MediaGatewayChild, meter: LoadMeter, pacer: Pacer) {
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
          phone.start(pacer);
        })
        .catch((error: unknown) => gateway.send({ cmd: 'tel-reject', callId: report.callId, detail: String(error) }).catch(() => {}));
    }
  });
  return {
    phoneFor: (callId: string) => phones.get(callId),
    close: () => {
      off();
      for (const phone of phones.values()) phone.close();
      phones.clear();
    },
  };
}

/** The time the phone of `callId` heard its first packet, waiting for it a little. */
async function firstAtPhone(phoneFor: (callId: string) => UdpRtpPeer | undefined, callId: string): Promise<number> {
  const deadline = performance.now() + PHONE_WAIT_MS;
  for (;;) {
    const at = phoneFor(callId)?.firstReceivedAt;
    if (at !== undefined) return at;
    if (performance.now() > deadline) throw new Error(`${callId}: the phone heard nothing`);
    await sleep(1);
  }
}

/** Which party offers: the browser (web -> SIP, the anchor answers) or the phone (SIP -> web, the anchor offers). */
export type SetupDirection = 'browser-calls' | 'phone-calls';

interface Driver {
  /** One set-up, `index` of the run: its sample, after which the call is hung up. */
  place(index: number): Promise<SetupSample>;
  close(): void;
}

/** Browsers call `tel:` numbers: the measured path is the anchor answering a browser's offer. */
function browserCallsDriver(url: string, concurrency: number, phoneFor: (callId: string) => UdpRtpPeer | undefined, meter: LoadMeter, pacer: Pacer): Driver {
  return {
    async place(index) {
      const call = await BrowserCall.place(url, `s${concurrency}-${index}`, `tel:${2000 + index}`, meter, pacer);
      try {
        const atPhone = await firstAtPhone(phoneFor, call.callId);
        return { ...call.times!, firstRtpAtPhoneMs: atPhone - call.startedAt! };
      } finally {
        call.close();
      }
    },
    close() {},
  };
}

/** Phones call web users, each answering like Chrome (DTLS `active`): the anchor offers the browser. */
async function phoneCallsDriver(gateway: MediaGatewayChild, url: string, concurrency: number, meter: LoadMeter, pacer: Pacer): Promise<Driver> {
  const free = await Promise.all(Array.from({ length: concurrency }, (_, i) => AnsweringBrowser.login(url, `callee${concurrency}x${i}`, pacer)));
  const all = [...free];
  const answers = new Map<string, (sdp: string) => void>();
  const failures = new Map<string, (error: Error) => void>();
  const off = gateway.onReport((report) => {
    if (report.type === 'tel-answered') answers.get(report.callId)?.(report.sdp);
    else if (report.type === 'tel-call-failed') failures.get(report.callId)?.(new Error(report.message));
  });
  return {
    async place(index) {
      const browser = free.pop()!;
      const phone = await UdpRtpPeer.create(meter, 'up');
      const callId = `bench-reverse-${concurrency}-${index}`;
      try {
        const answered = new Promise<string>((resolve, reject) => {
          answers.set(callId, resolve);
          failures.set(callId, reject);
        });
        const browserSide = browser.nextCall();
        browserSide.catch(() => {}); // awaited below, after the phone has the answer
        const start = performance.now();
        await gateway.send({ cmd: 'tel-call', callId, from: String(3000 + index), to: `web:${browser.name}`, sdp: phone.offer() });
        phone.takeAnswer(await withTimeout(answered, `${callId}: answered`, 15_000));
        const answeredAt = performance.now();
        phone.start(pacer);
        const times = await browserSide;
        const atPhone = await firstAtPhone(() => phone, callId);
        browser.hangup(times.callId);
        return {
          answeredMs: answeredAt - start,
          iceConnectedMs: times.iceConnectedAt - start,
          connectedMs: times.connectedAt - start,
          firstRtpAtPhoneMs: atPhone - start,
          firstRtpMs: times.firstRtpAt - start,
        };
      } finally {
        answers.delete(callId);
        failures.delete(callId);
        phone.close();
        free.push(browser);
      }
    },
    close() {
      off();
      for (const browser of all) browser.close();
    },
  };
}

/** `calls` set-ups through a fresh gateway, `concurrency` at a time; each call ends once media flowed both ways. */
export async function runSetups(
  direction: SetupDirection,
  concurrency: number,
  calls: number,
  log: (line: string) => void,
  attempts = 2,
): Promise<SetupRun> {
  const { child: gateway, httpPort } = await startMediaGateway();
  const url = `ws://127.0.0.1:${httpPort}/ws`;
  const meter = new LoadMeter();
  const pacer = new Pacer();
  const phones = servePhones(gateway, meter, pacer);
  let driver: Driver | undefined;
  const samples: SetupSample[] = [];
  const failures: string[] = [];
  const failureCauses: Record<string, number> = {};
  let retried = 0;
  let next = 0;
  try {
    pacer.start();
    driver = direction === 'browser-calls'
      ? browserCallsDriver(url, concurrency, phones.phoneFor, meter, pacer)
      : await phoneCallsDriver(gateway, url, concurrency, meter, pacer);
    // One wave of set-ups first, not counted: a fresh gateway's first calls also pay for JIT
    // compilation and node-datachannel's threads starting, which a running gateway has behind it.
    await Promise.all(Array.from({ length: concurrency }, (_, i) => driver!.place(WARM_UP_INDEX + i).catch(() => undefined)));
    const quietWaitMs = await awaitQuietMachine(gateway.pid);
    const loadAverage = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    const before = await gateway.request({ cmd: 'stats', gc: false, resetLoopDelay: true }, 'stats');
    const probe = cpuProbe(gateway.pid);
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < calls) {
        const index = next++;
        for (let attempt = 1; attempt <= attempts; attempt++) {
          try {
            samples.push(await driver!.place(index * attempts + attempt - 1));
            if (attempt > 1) retried += 1;
            break;
          } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            // Call ids and user names vary; the cause is what is left.
            const cause = message.replace(/\b(bench-[\w-]+|callee\w+|s\d+-\d+)\b/g, '…');
            failureCauses[cause] = (failureCauses[cause] ?? 0) + 1;
            if (attempt === attempts) failures.push(message);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, calls) }, worker));
    const wallMs = performance.now() - started;
    const after = await gateway.request({ cmd: 'stats', gc: false, resetLoopDelay: false }, 'stats');
    const gatewayCpuPct = (after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 10 / (after.hrtimeUs / 1000 - before.hrtimeUs / 1000);
    const { machine } = probe(gatewayCpuPct);
    const pick = (key: SetupMilestone): Percentiles => percentiles(samples.map((s) => s[key]));
    const ms = Object.fromEntries(SETUP_MILESTONES.map(({ key }) => [key, pick(key)])) as Record<SetupMilestone, Percentiles>;
    const run: SetupRun = {
      direction,
      concurrency,
      calls,
      failed: failures.length,
      retried,
      firstFailure: failures[0],
      failureCauses,
      ms,
      slow: samples.filter((s) => s.firstRtpAtPhoneMs > SLOW_SETUP_MS).length,
      wallMs,
      gatewayCpuPct,
      machine,
      loadAverage,
      quietWaitMs,
      samples,
    };
    log(`setup ${direction}, ${concurrency} in flight, ${calls} calls (${run.failed} failed, ${retried} retried): first RTP at the phone ` +
      `p50 ${ms.firstRtpAtPhoneMs.p50.toFixed(1)} / p99 ${ms.firstRtpAtPhoneMs.p99.toFixed(1)} / max ${ms.firstRtpAtPhoneMs.max.toFixed(1)} ms, ` +
      `DTLS connected p99 ${ms.connectedMs.p99.toFixed(1)} ms, ${run.slow} over ${SLOW_SETUP_MS} ms; machine busy ${machine?.busyPct.toFixed(0) ?? '?'}%`);
    return run;
  } finally {
    pacer.stop();
    driver?.close();
    phones.close();
    await gateway.stop();
  }
}
