import type { BrowserContext, Page } from 'playwright-core';
import type { TestBrowser } from '../chromium.js';
import type { SipJsAudioStats, SipJsPageApi, SipJsSessionState, SipJsSnapshot } from './sipjs-page-api.js';
import { serveSipJsPage, type SipJsPageServer } from './sipjs-page.js';

export interface SipJsSoftphoneOptions {
  /** The gateway's SIP over WebSocket endpoint, `ws://127.0.0.1:<httpPort>/sip`. */
  websocketUrl: string;
  /** e.g. `sip:bob@127.0.0.1`. */
  aor: string;
  /** The made-up host in Via and Contact (default `<user>-sipjs.invalid`). */
  viaHost?: string;
  autoAnswer?: boolean;
  /** Chromium launched with loopbackSocketsOnly (the default of launchChromium); a fresh context is opened in it. */
  browser: TestBrowser;
}

type PageCall<K extends keyof SipJsPageApi> = SipJsPageApi[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/**
 * An independent WebRTC-capable SIP phone for tests: SIP.js (its own SIP stack and its browser
 * SessionDescriptionHandler: ICE + DTLS-SRTP, complete SDP, no trickle) in headless Chromium with
 * the fake microphone, over SIP over WebSocket (RFC 7118). `stop()` closes what it opened.
 */
export class SipJsSoftphone {
  private constructor(
    readonly page: Page,
    /** Where requests to this phone go: `sip:<user>@<viaHost>;transport=ws`. */
    readonly contactUri: string,
    private readonly context: BrowserContext,
    private readonly server: SipJsPageServer,
  ) {}

  static async start(options: SipJsSoftphoneOptions): Promise<SipJsSoftphone> {
    const server = await serveSipJsPage();
    const context = await options.browser.newContext();
    try {
      const page = await context.newPage();
      page.on('pageerror', (error) => console.error(`[sipjs page error] ${error.message}`));
      await page.goto(server.url);
      await page.waitForFunction(() => 'sipjsPhone' in window);
      const user = /^sips?:([^@]+)@/.exec(options.aor)?.[1] ?? 'sipjs';
      const viaHost = options.viaHost ?? `${user}-sipjs.invalid`;
      const connect = { websocketUrl: options.websocketUrl, aor: options.aor, viaHost, autoAnswer: options.autoAnswer ?? false };
      await page.evaluate((args) => window.sipjsPhone.connect(args), connect);
      return new SipJsSoftphone(page, `sip:${user}@${viaHost};transport=ws`, context, server);
    } catch (error) {
      await context.close().catch(() => {});
      await server.close();
      throw error;
    }
  }

  announce: PageCall<'announce'> = () => this.page.evaluate(() => window.sipjsPhone.announce());
  call: PageCall<'call'> = (uri) => this.page.evaluate((target) => window.sipjsPhone.call(target), uri);
  answer: PageCall<'answer'> = () => this.page.evaluate(() => window.sipjsPhone.answer());
  hangup: PageCall<'hangup'> = () => this.page.evaluate(() => window.sipjsPhone.hangup());
  snapshot: PageCall<'snapshot'> = () => this.page.evaluate(() => window.sipjsPhone.snapshot());
  audioStats: PageCall<'audioStats'> = () => this.page.evaluate(() => window.sipjsPhone.audioStats());
  trace: PageCall<'trace'> = () => this.page.evaluate(() => window.sipjsPhone.trace());

  /** Inbound audio after letting the call run `ms` longer (the counters only grow). */
  async audioAfter(ms: number): Promise<SipJsAudioStats> {
    await this.page.waitForTimeout(ms);
    return this.audioStats();
  }

  async waitForIncoming(count = 1, timeoutMs = 15_000): Promise<SipJsSnapshot> {
    return this.#poll((s) => s.incomingCount >= count, `incoming call #${count}`, timeoutMs);
  }

  /** Resolves once SIP.js's session reaches `state` (`Established` after the 2xx/ACK, `Terminated` after BYE). */
  async waitForState(state: SipJsSessionState, timeoutMs = 15_000): Promise<SipJsSnapshot> {
    return this.#poll((s) => s.state === state, `session state ${state}`, timeoutMs);
  }

  /** Resolves once the RTCPeerConnection is `connected` (ICE and DTLS done). */
  async waitForMedia(timeoutMs = 15_000): Promise<SipJsSnapshot> {
    return this.#poll((s) => s.connectionState === 'connected', 'connected media', timeoutMs);
  }

  async stop(): Promise<void> {
    await this.page.evaluate(() => window.sipjsPhone.disconnect()).catch(() => {});
    await this.context.close().catch(() => {});
    await this.server.close();
  }

  async #poll(done: (snapshot: SipJsSnapshot) => boolean, what: string, timeoutMs: number): Promise<SipJsSnapshot> {
    const deadline = Date.now() + timeoutMs;
    let snapshot = await this.snapshot();
    while (!done(snapshot)) {
      if (Date.now() > deadline) {
        const trace = (await this.trace()).join('\n\n');
        throw new Error(`SIP.js ${this.contactUri}: no ${what} within ${timeoutMs} ms (now ${JSON.stringify(snapshot, null, 1)})\n${trace}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      snapshot = await this.snapshot();
    }
    return snapshot;
  }
}

declare global {
  interface Window {
    sipjsPhone: SipJsPageApi;
  }
}
