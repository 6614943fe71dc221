/**
 * Calls that survive the network (issue #13): how long a call takes to come back, with Chromium on
 * the demo page and an in-process gateway, TRIES times per scenario, one at a time.
 *
 * - `resume-anchored`: the page is in a call with `service:echo` (anchored) through a TCP relay;
 *   the relay resets the page's WebSocket (no close frame). Measured from the reset to the SDK's
 *   `reconnected` (the session resumed), and to the first echoed audio after it.
 * - `ice-restart-relayed` / `ice-restart-anchored`: the page gets an `online` event (a network
 *   change) and restarts ICE; measured from the event to ICE and DTLS connected again, and to the
 *   first audio decoded after it. Relayed: with another page. Anchored: with `service:echo`.
 *
 * The page's clock and this process's are both the system clock, so their times compare directly.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import type { Gateway } from '../src/gateway.js';
import { launchChromium, type TestBrowser } from '../test/support/chromium.js';
import { startTcpCutProxy, type TcpCutProxy } from '../test/support/tcp-cut-proxy.js';
import { startTestGateway } from '../test/support/test-gateway.js';
import { formatMs, percentiles, type Benchmark, type BenchmarkResult, type Percentiles } from './run.js';

const TRIES = 20;
const STEP_TIMEOUT_MS = 20_000;

type Scenario = 'resume-anchored' | 'ice-restart-relayed' | 'ice-restart-anchored';

interface Run {
  scenario: Scenario;
  tries: number;
  failed: number;
  firstFailure: string | undefined;
  /** To the session resumed, or to ICE and DTLS connected again. */
  backMs: Percentiles;
  /** To the first audio the page decoded after the event. */
  audioMs: Percentiles;
  samples: { backMs: number; audioMs: number }[];
}

const now = (): number => performance.timeOrigin + performance.now();

interface SdkView {
  resuming: boolean;
  loggedIn: boolean;
  connection: string | undefined;
  remoteUfrag: string | undefined;
  samples: number;
}

function sdk(page: Page): Promise<SdkView> {
  return page.evaluate(async () => {
    const w = window as unknown as { switchboard: { client: { resuming: boolean; loggedIn: boolean }; call?: { pc: RTCPeerConnection } } };
    const pc = w.switchboard.call?.pc;
    let samples = 0;
    if (pc) {
      (await pc.getStats()).forEach((report: Record<string, unknown>) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') samples = Number(report.totalSamplesReceived ?? 0) - Number(report.concealedSamples ?? 0);
      });
    }
    const remoteUfrag = /^a=ice-ufrag:(\S+)/m.exec(pc?.currentRemoteDescription?.sdp ?? '')?.[1];
    return { resuming: w.switchboard.client.resuming, loggedIn: w.switchboard.client.loggedIn, connection: pc?.connectionState, remoteUfrag, samples };
  });
}

async function until(what: string, check: () => Promise<boolean>): Promise<number> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
  return now();
}

/** Decoded samples must grow by a 20 ms frame's worth beyond what was there at `since`. */
async function firstNewAudio(page: Page): Promise<number> {
  const base = (await sdk(page)).samples;
  return until('audio', async () => (await sdk(page)).samples > base + 960);
}

/** The demo page, logged in through its SDK (`window.switchboard.client`); incoming calls are answered at once. */
async function openLoggedIn(browser: TestBrowser, url: string, name: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.evaluate(async (user) => {
    const client = (window as unknown as { switchboard: { client: { login(o: { name: string }): Promise<unknown>; on(e: string, l: (call: { answer(): Promise<void> }) => void): void } } }).switchboard.client;
    await client.login({ name: user });
    client.on('incoming', (call) => void call.answer());
  }, name);
  return page;
}

function dial(page: Page, to: string): Promise<void> {
  return page.evaluate(async (target) => {
    await (window as unknown as { switchboard: { client: { call(to: string): Promise<unknown> } } }).switchboard.client.call(target);
  }, to);
}

async function runScenario(browser: TestBrowser, scenario: Scenario, log: (line: string) => void): Promise<Run> {
  const gateway: Gateway = await startTestGateway({ signaling: { resumeWindowMs: 30_000 } });
  let proxy: TcpCutProxy | undefined;
  const samples: Run['samples'] = [];
  let failed = 0;
  let firstFailure: string | undefined;
  try {
    proxy = await startTcpCutProxy(gateway.httpPort);
    const page = await openLoggedIn(browser, `http://127.0.0.1:${proxy.port}`, 'alice');
    if (scenario === 'ice-restart-relayed') {
      await openLoggedIn(browser, `http://127.0.0.1:${gateway.httpPort}`, 'bob');
      await dial(page, 'web:bob');
    } else {
      await dial(page, 'service:echo');
    }
    await until('the call to connect', async () => (await sdk(page)).connection === 'connected');
    await sleep(1000);
    for (let i = 0; i < TRIES; i += 1) {
      try {
        const startedAt = now();
        let backAt: number;
        if (scenario === 'resume-anchored') {
          proxy.cut();
          await until('the SDK to notice', async () => (await sdk(page)).resuming);
          backAt = await until('the session to resume', async () => {
            const state = await sdk(page);
            return !state.resuming && state.loggedIn;
          });
        } else {
          const before = await sdk(page);
          await page.evaluate(() => window.dispatchEvent(new Event('online')));
          backAt = await until('ICE and DTLS with new credentials', async () => {
            const state = await sdk(page);
            return state.remoteUfrag !== before.remoteUfrag && state.connection === 'connected';
          });
        }
        const audioAt = await firstNewAudio(page);
        samples.push({ backMs: backAt - startedAt, audioMs: audioAt - startedAt });
      } catch (error) {
        failed += 1;
        firstFailure ??= (error as Error).message;
      }
      await sleep(300);
    }
    log(`${scenario}: ${samples.length}/${TRIES} recovered`);
  } finally {
    await proxy?.close();
    await gateway.stop();
  }
  return {
    scenario,
    tries: TRIES,
    failed,
    firstFailure,
    backMs: percentiles(samples.map((s) => s.backMs)),
    audioMs: percentiles(samples.map((s) => s.audioMs)),
    samples,
  };
}

export const recoveryBenchmark: Benchmark = {
  name: 'recovery',
  description: 'Session resume and ICE restart: time until a call is back',
  async run(log): Promise<BenchmarkResult> {
    const browser = await launchChromium();
    const runs: Run[] = [];
    try {
      for (const scenario of ['resume-anchored', 'ice-restart-relayed', 'ice-restart-anchored'] as const) runs.push(await runScenario(browser, scenario, log));
    } finally {
      await browser.close();
    }
    const row = (run: Run, key: 'backMs' | 'audioMs') => [run.scenario, key === 'backMs' ? (run.scenario.startsWith('resume') ? 'session resumed' : 'ICE + DTLS connected') : 'first audio decoded', formatMs(run[key].p50), formatMs(run[key].p99), formatMs(run[key].max), `${run.tries - run.failed}/${run.tries}`];
    return {
      method:
        `Chromium on the demo page, an in-process gateway, ${TRIES} tries per scenario one after the other in one call. ` +
        'resume-anchored: the page calls service:echo through a TCP relay, which resets the WebSocket (no close frame); ' +
        'from the reset to the SDK resumed, and to the first audio decoded after the reset. ice-restart-*: an `online` event ' +
        'in the page (a network change) makes the SDK restart ICE; from the event to ICE and DTLS connected again, and to the first ' +
        'audio decoded after it (relayed: with another page; anchored: with service:echo).',
      tables: [
        {
          title: 'Time until the call is back (ms)',
          headers: ['scenario', 'milestone', 'p50', 'p99', 'max', 'recovered'],
          rows: runs.flatMap((run) => [row(run, 'backMs'), row(run, 'audioMs')]),
        },
      ],
      notes: [
        'Resume: the relay lets the new connection through at once, so this is the SDK noticing the reset, its first backoff step (250-500 ms) and the resume round trip; a real outage adds its own length and the backoff step after it.',
        'Media does not stop while the WebSocket is away (the echo keeps flowing), so "first audio decoded" after a resume is not a recovery of media.',
        'Anchored ICE restart: the anchor closes its old endpoint at once, but Chromium keeps its selected pair (the old path still works here) until its checks on it go unanswered, ~2.5 s, then takes the new pair and sets up DTLS with the new anchor endpoint. The anchor giving its candidates in the answer instead of trickling them changed nothing (3.27 s). After a real network loss the old pair is dead already.',
        ...runs.filter((run) => run.failed > 0).map((run) => `${run.scenario}: ${run.failed} failed, first: ${run.firstFailure}`),
      ],
      data: runs,
    };
  },
};
