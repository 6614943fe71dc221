import type { BrowserContext, Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../chromium.js';
import type { StanzaAudioStats, StanzaEndReason, StanzaPageApi, StanzaSessionState, StanzaSnapshot, StanzaTraceEntry } from './stanza-page-api.js';
import { serveStanzaPage, type StanzaPageServer } from './stanza-page.js';

export interface StanzaPeerOptions {
  /** Prosody's `websocketUrl` (startProsody({ websocket: true })). */
  websocketUrl: string;
  /** Bare JID of a registered user, e.g. `carol@localhost`. */
  jid: string;
  password: string;
  resource?: string;
  /** Answer incoming sessions by itself (after session-info ringing). Default: wait for answer(). */
  autoAnswer?: boolean;
  /**
   * Chromium to open a fresh context in; without one (and without `page`) the peer launches its
   * own, with `loopbackSocketsOnly` (pass a browser launched that way too, see chromium.ts).
   */
  browser?: TestBrowser;
  /** A page to load the StanzaJS page into instead; the caller keeps owning it. */
  page?: Page;
}

type PageCall<K extends keyof StanzaPageApi> = StanzaPageApi[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/**
 * An independent Jingle peer for tests: StanzaJS (its own Jingle stack and SDP conversion, no JMI)
 * in headless Chromium with real WebRTC and the fake microphone, logged in to Prosody over
 * WebSocket. `stop()` logs out and closes whatever this peer opened (context or browser).
 */
export class StanzaPeer {
  private constructor(
    readonly page: Page,
    /** The full JID the server bound, e.g. `carol@localhost/stanza`. */
    readonly jid: string,
    private readonly owned: Owned,
  ) {}

  static async start(options: StanzaPeerOptions): Promise<StanzaPeer> {
    const owned: Owned = {};
    let page = options.page;
    try {
      if (!page) {
        const browser = options.browser ?? (owned.browser = await launchChromium({ loopbackSocketsOnly: true }));
        owned.context = await browser.newContext();
        page = await owned.context.newPage();
      }
      page.on('pageerror', (error) => console.error(`[stanza page error] ${error.message}`));
      owned.server = await serveStanzaPage();
      await page.goto(owned.server.url);
      await page.waitForFunction(() => 'stanzaPeer' in window);
      const login = { websocketUrl: options.websocketUrl, jid: options.jid, password: options.password, resource: options.resource ?? 'stanza', autoAnswer: options.autoAnswer ?? false };
      const jid = await page.evaluate((args) => window.stanzaPeer.login(args), login);
      return new StanzaPeer(page, jid, owned);
    } catch (error) {
      await release(owned);
      throw error;
    }
  }

  /** Direct session-initiate (XEP-0166/0167, audio) to a full JID; resolves with the sid once sent. */
  call(jid: string): Promise<string> {
    return this.page.evaluate((to) => window.stanzaPeer.call(to), jid);
  }

  /** Accepts the current incoming session with the fake microphone (session-accept). */
  answer(): Promise<void> {
    return this.page.evaluate(() => window.stanzaPeer.answer());
  }

  /** Declines the current incoming session: session-terminate with `condition`. */
  reject(condition: 'decline' | 'busy' = 'decline'): Promise<void> {
    return this.page.evaluate((reason) => window.stanzaPeer.reject(reason), condition);
  }

  /** Ends the current session: session-terminate with `condition`. */
  hangup(condition = 'success'): Promise<void> {
    return this.page.evaluate((reason) => window.stanzaPeer.hangup(reason), condition);
  }

  snapshot: PageCall<'snapshot'> = () => this.page.evaluate(() => window.stanzaPeer.snapshot());
  audioStats: PageCall<'audioStats'> = () => this.page.evaluate(() => window.stanzaPeer.audioStats());
  externalServices: PageCall<'externalServices'> = () => this.page.evaluate(() => window.stanzaPeer.externalServices());
  enableCarbons: PageCall<'enableCarbons'> = () => this.page.evaluate(() => window.stanzaPeer.enableCarbons());
  messages: PageCall<'messages'> = () => this.page.evaluate(() => window.stanzaPeer.messages());
  sendMessage: PageCall<'sendMessage'> = (to, body) => this.page.evaluate(([jid, text]) => window.stanzaPeer.sendMessage(jid, text), [to, body] as const);
  trace: PageCall<'trace'> = () => this.page.evaluate(() => window.stanzaPeer.trace());

  /**
   * Polls disco#info of `jid` until it answers (an offline full JID gets an error from the
   * server) and returns its features: the readiness check before calling a resource.
   */
  async waitForDiscoFeatures(jid: string, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await this.page.evaluate((to) => window.stanzaPeer.discoFeatures(to), jid);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Resolves once an incoming session-initiate has arrived (the `count`-th one since login). */
  async waitForIncoming(count = 1, timeoutMs = 15_000): Promise<StanzaSnapshot> {
    return this.#poll((s) => s.incomingCount >= count, `incoming session #${count}`, timeoutMs);
  }

  /** Resolves once StanzaJS's session reaches `state` ('active' after session-accept, 'ended' after terminate). */
  async waitForState(state: StanzaSessionState, timeoutMs = 15_000): Promise<StanzaSnapshot> {
    return this.#poll((s) => s.state === state, `session state ${state}`, timeoutMs);
  }

  /** Why the current session ended (the reason in the session-terminate, and who sent it). */
  async endReason(timeoutMs = 15_000): Promise<StanzaEndReason> {
    return (await this.waitForState('ended', timeoutMs)).endReason!;
  }

  /** Inbound audio after letting the call run `ms` longer (packet and energy counters only grow). */
  async audioAfter(ms: number): Promise<StanzaAudioStats> {
    await this.page.waitForTimeout(ms);
    return this.audioStats();
  }

  /** The Jingle-related stanzas both ways (IQs with <jingle/> and their results or errors, JMI messages), one line each. */
  async jingleTrace(): Promise<string> {
    const entries = await this.trace();
    const jingle = entries.filter((entry) => /urn:xmpp:jingle/.test(entry.xml));
    const ids = new Set(jingle.map((entry) => /\sid=["']([^"']+)["']/.exec(entry.xml)?.[1]).filter(Boolean));
    return formatTrace(entries.filter((entry) => jingle.includes(entry) || ids.has(/\sid=["']([^"']+)["']/.exec(entry.xml)?.[1])));
  }

  async stop(): Promise<void> {
    await this.page.evaluate(() => window.stanzaPeer.logout()).catch(() => {});
    await release(this.owned);
  }

  async #poll(done: (snapshot: StanzaSnapshot) => boolean, what: string, timeoutMs: number): Promise<StanzaSnapshot> {
    const deadline = Date.now() + timeoutMs;
    let snapshot = await this.snapshot();
    while (!done(snapshot)) {
      if (Date.now() > deadline) {
        throw new Error(`StanzaJS ${this.jid}: no ${what} within ${timeoutMs} ms (now ${JSON.stringify(snapshot)})\n${await this.jingleTrace()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
      snapshot = await this.snapshot();
    }
    return snapshot;
  }
}

/** What a peer opened for itself and closes in stop(). */
interface Owned {
  browser?: TestBrowser;
  context?: BrowserContext;
  server?: StanzaPageServer;
}

async function release(owned: Owned): Promise<void> {
  await owned.context?.close().catch(() => {});
  await owned.browser?.close().catch(() => {});
  await owned.server?.close();
}

/** `→`/`←` lines with milliseconds since the first entry, for failure messages and bug reports. */
export function formatTrace(entries: StanzaTraceEntry[]): string {
  const start = entries[0]?.at ?? 0;
  return entries.map((e) => `${String(e.at - start).padStart(6)} ms ${e.direction === 'out' ? '→' : '←'} ${e.xml}`).join('\n');
}

declare global {
  interface Window {
    stanzaPeer: StanzaPageApi;
  }
}
