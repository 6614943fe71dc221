/**
 * Call set-up with a real browser (issue #18): headless Chromium on the demo page, one call at a
 * time, to `service:echo`, to baresip, and from baresip (the page answers at once, as an
 * auto-answer would). The page's clock and this process's are both the system clock
 * (performance.timeOrigin + now), so their times compare directly.
 *
 * Milestones, from the page's offer (its `call` frame) or, for baresip -> page, from the INVITE
 * reaching the gateway: the answer (applied by the page; for an incoming call, its `accept`),
 * ICE and DTLS connected (the page's RTCPeerConnection), the first RTP the anchor sent towards
 * the phone (or the echo reflector: the gateway's own counters, polled every millisecond), and
 * the first audio the page decoded (getStats: samples received that were not concealment,
 * polled every 5 ms).
 */
import { fork } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import type { Call } from '../src/calls/call.js';
import type { Gateway } from '../src/gateway.js';
import type { AnchorMediaSession } from '../src/media/anchor-media-session.js';
import { launchChromium, type TestBrowser } from '../test/support/chromium.js';
import { startBaresip, type Baresip } from '../test/support/sip/baresip.js';
import { allocatePort } from '../test/support/sip/ports.js';
import { SipJsSoftphone } from '../test/support/sip/sipjs-softphone.js';
import { startTestGateway } from '../test/support/test-gateway.js';
import { isMainModule } from './ipc-child.js';
import { percentiles, type Percentiles } from './run.js';

/**
 * `sipjs-calls-page*`: SIP.js (WebRTC, complete SDP, no trickle) in another page calls the demo
 * page over SIP over WebSocket: a relayed call, where the gateway folds the page's trickled
 * candidates into its answer (RelayMediaSession). `-silent-stun`: browsers are also given a
 * STUN server that never answers (a UDP socket that swallows requests), as behind a firewall
 * that drops STUN: the page's end-of-candidates then comes only when Chromium gives up on it.
 */
export type ChromiumScenario = 'page-calls-echo' | 'page-calls-baresip' | 'baresip-calls-page' | 'sipjs-calls-page' | 'sipjs-calls-page-silent-stun';

export interface ChromiumSample {
  answeredMs: number;
  iceConnectedMs: number;
  connectedMs: number;
  /** The anchor's first RTP towards the phone (or the echo reflector). */
  firstRtpAtPhoneMs: number;
  /** The page decoded its first audio (not concealment). */
  firstAudioMs: number;
  /** The page's end-of-candidates (a relayed call's answer waits for it, for SIP.js). */
  candidatesEndMs: number;
}

export type ChromiumMilestone = keyof ChromiumSample;

export interface ChromiumRun {
  scenario: ChromiumScenario;
  calls: number;
  failed: number;
  firstFailure: string | undefined;
  ms: Record<ChromiumMilestone, Percentiles>;
  samples: ChromiumSample[];
}

const now = (): number => performance.timeOrigin + performance.now();
const STEP_TIMEOUT_MS = 15_000;

/** What the page records per RTCPeerConnection (installed before the page's own script runs). */
const PAGE_PROBE = `(() => {
  const now = () => performance.timeOrigin + performance.now();
  const bench = (window.__bench = { calls: [] });
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    try {
      const frame = JSON.parse(data);
      const call = bench.calls[bench.calls.length - 1];
      if (call && call.offerAt === undefined && (frame.type === 'call' || frame.type === 'accept')) call.offerAt = now();
      if (call && frame.type === 'candidate' && frame.candidate === null) call.candidatesEndAt ??= now();
    } catch {}
    return send.call(this, data);
  };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      const call = { createdAt: now() };
      bench.calls.push(call);
      this.addEventListener('iceconnectionstatechange', () => {
        if ((this.iceConnectionState === 'connected' || this.iceConnectionState === 'completed') && !call.iceConnectedAt) call.iceConnectedAt = now();
      });
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected' && !call.connectedAt) call.connectedAt = now();
      });
      const poll = async () => {
        if (this.signalingState === 'closed' || call.firstAudioAt) return;
        const stats = await this.getStats();
        for (const s of stats.values()) {
          if (s.type === 'inbound-rtp' && s.kind === 'audio' && s.totalSamplesReceived - s.concealedSamples > 0) call.firstAudioAt ??= now();
        }
        setTimeout(poll, 5);
      };
      poll();
    }
    setRemoteDescription(description, ...rest) {
      const call = bench.calls[bench.calls.length - 1];
      if (description && description.type === 'answer' && call && !call.answerAt) call.answerAt = now();
      return super.setRemoteDescription(description, ...rest);
    }
  };
  setInterval(() => {
    const answer = document.querySelector('#answer');
    if (window.__benchAutoAnswer && answer && !answer.hidden && !answer.disabled) answer.click();
  }, 2);
})();`;

interface PageCall {
  createdAt: number;
  offerAt?: number;
  answerAt?: number;
  iceConnectedAt?: number;
  connectedAt?: number;
  firstAudioAt?: number;
  candidatesEndAt?: number;
}

/** The first time the anchor of each call sent RTP to its non-web party, by call id. */
function watchFirstRtpToPhone(gateway: Gateway): { firstAt: Map<string, number>; stop: () => void } {
  const firstAt = new Map<string, number>();
  type Side = { leg: string; rtp?: { packetsOut: number } };
  const timer = setInterval(() => {
    for (const call of gateway.calls.list() as Call[]) {
      if (call.media.mode !== 'anchor' || firstAt.has(call.id)) continue;
      const stats = (call.media as AnchorMediaSession).stats() as { a: Side; b: Side };
      const phone = [stats.a, stats.b].find((side) => !side.leg.startsWith('web:'));
      if ((phone?.rtp?.packetsOut ?? 0) > 0) firstAt.set(call.id, now());
    }
  }, 1);
  return { firstAt, stop: () => clearInterval(timer) };
}

async function openPage(browser: TestBrowser, httpPort: number, name: string): Promise<Page> {
  const context = await browser.newContext();
  await context.addInitScript(PAGE_PROBE);
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${httpPort}/`);
  await page.fill('#name', name);
  await page.click('#login');
  await page.waitForFunction((expected) => document.querySelector('#me')?.textContent === expected, name, { timeout: STEP_TIMEOUT_MS });
  return page;
}

const stateIs = (page: Page, state: string): Promise<unknown> =>
  page.waitForFunction((expected) => document.querySelector('#state')?.textContent === expected, state, { timeout: STEP_TIMEOUT_MS, polling: 5 });

async function lastPageCall(page: Page): Promise<PageCall> {
  await page.waitForFunction(() => {
    const calls = (window as unknown as { __bench: { calls: PageCall[] } }).__bench.calls;
    return calls.length > 0 && calls[calls.length - 1]!.firstAudioAt !== undefined;
  }, undefined, { timeout: STEP_TIMEOUT_MS, polling: 10 });
  return page.evaluate(() => {
    const calls = (window as unknown as { __bench: { calls: PageCall[] } }).__bench.calls;
    return calls[calls.length - 1]!;
  });
}

async function firstRtp(firstAt: Map<string, number>, callId: () => string | undefined): Promise<number> {
  const deadline = now() + STEP_TIMEOUT_MS;
  for (;;) {
    const id = callId();
    const at = id === undefined ? undefined : firstAt.get(id);
    if (at !== undefined) return at;
    if (now() > deadline) throw new Error('the anchor sent the phone no RTP');
    await sleep(5);
  }
}

/** One scenario, `calls` times in a row, through one gateway, page and (where needed) baresip. */
async function runScenario(browser: TestBrowser, scenario: ChromiumScenario, calls: number, log: (line: string) => void): Promise<ChromiumRun> {
  const sipPort = await allocatePort();
  const relayed = scenario.startsWith('sipjs-');
  const silentStun = scenario.endsWith('-silent-stun') ? await swallowingUdpSocket() : undefined;
  const gateway = await startTestGateway({
    sip: { enabled: true, port: sipPort },
    ...(silentStun ? { ice: { stun: [`stun:127.0.0.1:${silentStun.address().port}`] } } : {}),
  });
  const rtp = watchFirstRtpToPhone(gateway);
  let phone: Baresip | undefined;
  let sipjs: SipJsSoftphone | undefined;
  const samples: ChromiumSample[] = [];
  const failures: string[] = [];
  try {
    const page = await openPage(browser, gateway.httpPort, 'alice');
    if (scenario === 'page-calls-baresip' || scenario === 'baresip-calls-page') phone = await startBaresip({ user: 'bob', toneHz: 440 });
    if (relayed) sipjs = await SipJsSoftphone.start({ websocketUrl: `ws://127.0.0.1:${gateway.httpPort}/sip`, aor: 'sip:bob@127.0.0.1', browser });
    const incoming = scenario === 'baresip-calls-page' || relayed;
    await page.evaluate((on) => ((window as unknown as { __benchAutoAnswer: boolean }).__benchAutoAnswer = on), incoming);
    let invitedAt = 0;
    let currentCall: string | undefined;
    gateway.calls.on('callstart', (call) => {
      invitedAt = now();
      currentCall = call.id;
    });
    for (let i = 0; i < calls; i++) {
      try {
        if (scenario === 'baresip-calls-page') await phone!.dial(`sip:alice@127.0.0.1:${sipPort}`);
        else if (relayed) await sipjs!.call('sip:alice@127.0.0.1');
        else {
          await page.fill('#dial', scenario === 'page-calls-echo' ? 'service:echo' : phone!.uri);
          await page.click('#call');
        }
        await stateIs(page, 'active');
        const pageCall = await lastPageCall(page);
        // A relayed call's media never passes the anchor.
        const atPhone = relayed ? undefined : await firstRtp(rtp.firstAt, () => currentCall);
        const start = incoming ? invitedAt : pageCall.offerAt!;
        const since = (at: number | undefined): number => (at === undefined ? NaN : at - start);
        samples.push({
          answeredMs: since(incoming ? pageCall.offerAt : pageCall.answerAt),
          candidatesEndMs: since(pageCall.candidatesEndAt),
          iceConnectedMs: since(pageCall.iceConnectedAt),
          connectedMs: since(pageCall.connectedAt),
          firstRtpAtPhoneMs: since(atPhone),
          firstAudioMs: since(pageCall.firstAudioAt),
        });
      } catch (error) {
        failures.push(error instanceof Error ? error.message.split('\n')[0]! : String(error));
      } finally {
        if (scenario === 'baresip-calls-page') await phone!.hangup().catch(() => {});
        else if (relayed) await sipjs!.hangup().catch(() => {});
        else await page.click('#hangup').catch(() => {});
        await stateIs(page, 'ended').catch(() => {});
        await waitForNoCalls(gateway);
      }
    }
    await page.context().close();
  } finally {
    rtp.stop();
    await phone?.stop();
    await sipjs?.stop();
    silentStun?.close();
    await gateway.stop();
  }
  const pick = (key: ChromiumMilestone): Percentiles => percentiles(samples.map((s) => s[key]).filter((v) => !Number.isNaN(v)));
  const ms = {
    answeredMs: pick('answeredMs'),
    iceConnectedMs: pick('iceConnectedMs'),
    connectedMs: pick('connectedMs'),
    firstRtpAtPhoneMs: pick('firstRtpAtPhoneMs'),
    firstAudioMs: pick('firstAudioMs'),
    candidatesEndMs: pick('candidatesEndMs'),
  };
  log(`chromium ${scenario}, ${calls} calls (${failures.length} failed): first audio in the page p50 ${ms.firstAudioMs.p50.toFixed(1)} / ` +
    `p99 ${ms.firstAudioMs.p99.toFixed(1)} / max ${ms.firstAudioMs.max.toFixed(1)} ms, DTLS connected p99 ${ms.connectedMs.p99.toFixed(1)} ms`);
  return { scenario, calls, failed: failures.length, firstFailure: failures[0], ms, samples };
}

/** A UDP socket on loopback that takes every datagram and answers none: a STUN server behind a firewall. */
async function swallowingUdpSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  socket.on('message', () => {});
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

async function waitForNoCalls(gateway: Gateway): Promise<void> {
  const deadline = now() + STEP_TIMEOUT_MS;
  while (gateway.calls.size > 0 && now() < deadline) await sleep(10);
}

/** Every scenario, one after the other, in one Chromium. */
export async function runChromiumSetups(counts: Record<ChromiumScenario, number>, log: (line: string) => void): Promise<ChromiumRun[]> {
  const browser = await launchChromium();
  try {
    const runs: ChromiumRun[] = [];
    for (const scenario of Object.keys(counts) as ChromiumScenario[]) {
      if (counts[scenario] > 0) runs.push(await runScenario(browser, scenario, counts[scenario], log));
    }
    return runs;
  } finally {
    await browser.close();
  }
}

/**
 * runChromiumSetups in a child process that exits without node-datachannel's cleanup(): the
 * gateway runs in that process, and cleanup() can crash once V8 has collected the wrappers of
 * endpoints its calls closed (bench/browser-peer.ts), which would take the whole benchmark down.
 */
export function runChromiumSetupsInChild(counts: Record<ChromiumScenario, number>, log: (line: string) => void): Promise<ChromiumRun[]> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL(import.meta.url), [], { env: { ...process.env, BENCH_CHROMIUM_COUNTS: JSON.stringify(counts) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let runs: ChromiumRun[] | undefined;
    child.on('message', (message: { type: 'log'; line: string } | { type: 'result'; runs: ChromiumRun[] } | { type: 'failed'; message: string }) => {
      if (message.type === 'log') log(message.line);
      else if (message.type === 'result') runs = message.runs;
      else reject(new Error(`Chromium set-ups failed: ${message.message}`));
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => (runs ? resolve(runs) : reject(new Error(`the Chromium set-up process ended (${signal ?? code}) without a result`))));
  });
}

if (isMainModule(import.meta.url)) {
  const send = (message: unknown): Promise<void> => new Promise((resolve) => process.send!(message, undefined, {}, () => resolve()));
  runChromiumSetups(JSON.parse(process.env.BENCH_CHROMIUM_COUNTS ?? '{}') as Record<ChromiumScenario, number>, (line) => void send({ type: 'log', line }))
    .then((runs) => send({ type: 'result', runs }))
    .catch((error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }))
    // No nodeDataChannel.cleanup(): see runChromiumSetupsInChild.
    .finally(() => process.exit(0));
}
