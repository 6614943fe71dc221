import { expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';

/** What the page's WebRTC stats say about received audio. */
export interface InboundAudio {
  packetsReceived: number;
  totalAudioEnergy: number;
  maxAudioLevel: number;
}

/** One message as the chat panel shows it. */
export interface ShownChatMessage {
  direction: 'in' | 'out';
  /** `sending`, `sent`, `failed` or `received`. */
  status: string;
  body: string;
  /** The panel's text under the message: time and status. */
  meta: string;
  /** Why it was not delivered, as shown. */
  error: string;
}

/**
 * Drives the demo softphone page (src/web) the way a person does: by its
 * form fields and buttons. Media checks read the page's own RTCPeerConnection.
 */
export class SoftphonePage {
  private constructor(readonly page: Page) {}

  static async open(context: BrowserContext, baseUrl: string, query = ''): Promise<SoftphonePage> {
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
    await page.goto(`${baseUrl}/${query}`);
    return new SoftphonePage(page);
  }

  async login(name: string): Promise<void> {
    await this.page.fill('#name', name);
    await this.page.click('#login');
    await expect.poll(() => this.page.textContent('#me'), { timeout: 10_000 }).toBe(name);
  }

  async dial(address: string): Promise<void> {
    await this.page.fill('#dial', address);
    await this.page.click('#call');
  }

  async answer(): Promise<void> {
    await this.page.waitForSelector('#answer:not([hidden]):not([disabled])', { timeout: 10_000 });
    await this.page.click('#answer');
  }

  /** Declines the ringing call (the page's Decline button). */
  async reject(): Promise<void> {
    await this.page.waitForSelector('#reject:not([hidden]):not([disabled])', { timeout: 10_000 });
    await this.page.click('#reject');
  }

  async hangup(): Promise<void> {
    await this.page.click('#hangup');
  }

  async waitForState(state: string, timeoutMs = 15_000): Promise<void> {
    await expect.poll(() => this.page.textContent('#state'), { timeout: timeoutMs }).toBe(state);
  }

  endReason(): Promise<string | null> {
    return this.page.textContent('#end-reason');
  }

  /** The state shown for a registration the gateway holds for this user (`xmpp:gateway@localhost/alice`), or undefined. */
  async registrationState(aor: string): Promise<string | undefined> {
    const text = await this.page.locator(`#registrations li[data-aor="${aor}"] .registration-state`).textContent({ timeout: 1000 }).catch(() => null);
    return text ?? undefined;
  }

  // ------------------------------------------------------------------ chat panel

  /** Opens (or shows) the conversation with `address`: types it and presses Enter. A bare name is shown as `web:<name>`. */
  async openChat(address: string): Promise<void> {
    await this.page.fill('#chat-to', address);
    await this.page.press('#chat-to', 'Enter');
    await expect.poll(() => this.chatPeer()).toBe(address.includes(':') ? address : `web:${address}`);
  }

  /** Types `text` in the message field and presses Enter, as a person does. */
  async sendChat(text: string): Promise<void> {
    await this.page.fill('#chat-input', text);
    await this.page.press('#chat-input', 'Enter');
  }

  /** The address of the conversation shown. */
  async chatPeer(): Promise<string> {
    return (await this.page.locator('#chat-peer:not([hidden])').textContent({ timeout: 1000 }).catch(() => null)) ?? '';
  }

  /** The messages of the conversation shown, read from the page. */
  chatMessages(): Promise<ShownChatMessage[]> {
    return this.page.$$eval('#chat-messages li.chat-message', (items) =>
      items.map((li) => ({
        direction: (li as HTMLElement).dataset.direction as 'in' | 'out',
        status: (li as HTMLElement).dataset.status ?? '',
        body: li.querySelector('.chat-body')?.textContent ?? '',
        meta: li.querySelector('.chat-meta')?.textContent ?? '',
        error: li.querySelector('.chat-error')?.textContent ?? '',
      })),
    );
  }

  /** Waits until the conversation shown has a message with `body` (and the given fields), and returns it. */
  async waitForChatMessage(body: string, fields: Partial<ShownChatMessage> = {}, timeoutMs = 10_000): Promise<ShownChatMessage> {
    let found: ShownChatMessage | undefined;
    await expect
      .poll(
        async () => {
          found = (await this.chatMessages()).find((m) => m.body === body && Object.entries(fields).every(([k, v]) => m[k as keyof ShownChatMessage] === v));
          return found !== undefined;
        },
        { timeout: timeoutMs, message: `a chat message ${JSON.stringify({ body, ...fields })}` },
      )
      .toBe(true);
    return found!;
  }

  /** The conversation buttons: address and unread count as shown. */
  conversations(): Promise<{ address: string; unread: number; current: boolean }[]> {
    return this.page.$$eval('#chat-conversations button[data-address]', (buttons) =>
      buttons.map((button) => ({
        address: (button as HTMLElement).dataset.address ?? '',
        unread: Number(button.querySelector('.count')?.textContent ?? 0),
        current: button.getAttribute('aria-current') === 'true',
      })),
    );
  }

  /** Shows another conversation by clicking its button. */
  async selectConversation(address: string): Promise<void> {
    await this.page.click(`#chat-conversations button[data-address="${address}"]`);
    await expect.poll(() => this.chatPeer()).toBe(address);
  }

  /** Samples inbound audio for `ms`: packet count, energy and the loudest level seen. */
  async inboundAudio(ms: number): Promise<InboundAudio> {
    return this.page.evaluate(async (duration) => {
      const pc = (window as unknown as { switchboard: { call?: { pc: RTCPeerConnection } } }).switchboard.call?.pc;
      if (!pc) throw new Error('no current call');
      let maxAudioLevel = 0;
      let last = { packetsReceived: 0, totalAudioEnergy: 0 };
      const end = Date.now() + duration;
      while (Date.now() < end) {
        const stats = await pc.getStats();
        stats.forEach((report: Record<string, unknown>) => {
          if (report.type === 'inbound-rtp' && report.kind === 'audio') {
            last = {
              packetsReceived: Number(report.packetsReceived ?? 0),
              totalAudioEnergy: Number(report.totalAudioEnergy ?? 0),
            };
            maxAudioLevel = Math.max(maxAudioLevel, Number(report.audioLevel ?? 0));
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return { ...last, maxAudioLevel };
    }, ms);
  }

  /** Audio the page received during `ms`: a delta, what came before does not count. */
  async audioReceivedDuring(ms: number): Promise<{ packets: number; energy: number }> {
    const before = await this.inboundAudio(50);
    const after = await this.inboundAudio(ms);
    return { packets: after.packetsReceived - before.packetsReceived, energy: after.totalAudioEnergy - before.totalAudioEnergy };
  }

  /** This page calls `callee` (another page, logged in as `calleeUser`), which answers; resolves when both are active. */
  async callAndConnect(callee: SoftphonePage, calleeUser: string): Promise<void> {
    await this.dial(`web:${calleeUser}`);
    await callee.waitForState('incoming');
    await callee.answer();
    await Promise.all([this.waitForState('active'), callee.waitForState('active')]);
  }

  /** SSRCs of the audio streams the page receives (a new one would be a new stream to the browser). */
  async inboundSsrcs(): Promise<number[]> {
    return this.page.evaluate(async () => {
      const pc = (window as unknown as { switchboard: { call?: { pc: RTCPeerConnection } } }).switchboard.call!.pc;
      const ssrcs: number[] = [];
      (await pc.getStats()).forEach((report: Record<string, unknown>) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') ssrcs.push(Number(report.ssrc));
      });
      return ssrcs;
    });
  }

  /** Presses keypad digits during the call (the SDK sends RFC 4733 events in the audio stream). */
  async pressDigits(digits: string): Promise<void> {
    for (const digit of digits) {
      await this.page.click(`[data-digit="${digit}"]`);
      await this.page.waitForTimeout(250);
    }
  }

  /** Starts collecting digits the gateway signals to the page (`dtmf` frames). */
  async collectSignaledDigits(): Promise<() => Promise<string>> {
    await this.page.evaluate(() => {
      const w = window as unknown as { switchboard: { call?: { on(e: 'dtmf', f: (d: string) => void): void } }; heardDigits: string };
      w.heardDigits = '';
      w.switchboard.call!.on('dtmf', (digits) => {
        w.heardDigits += digits;
      });
    });
    return () => this.page.evaluate(() => (window as unknown as { heardDigits: string }).heardDigits);
  }

  /** Round-trip time (s) the page measured: RTCP-based where present, else on the ICE pair. */
  async roundTripTime(): Promise<number | undefined> {
    return this.page.evaluate(async () => {
      const pc = (window as unknown as { switchboard: { call?: { pc: RTCPeerConnection } } }).switchboard.call!.pc;
      const stats = await pc.getStats();
      let rtcp: number | undefined;
      let ice: number | undefined;
      stats.forEach((report: Record<string, unknown>) => {
        if (report.type === 'remote-inbound-rtp' && typeof report.roundTripTime === 'number') rtcp = report.roundTripTime;
        if (report.type === 'candidate-pair' && report.nominated && typeof report.currentRoundTripTime === 'number') {
          ice = report.currentRoundTripTime;
        }
      });
      return rtcp ?? ice;
    });
  }

  /** Candidate types of the selected ICE pair, e.g. `{ local: 'relay', remote: 'relay' }`. */
  async selectedCandidateTypes(): Promise<{ local: string; remote: string }> {
    return this.page.evaluate(async () => {
      const pc = (window as unknown as { switchboard: { call?: { pc: RTCPeerConnection } } }).switchboard.call!.pc;
      const stats = await pc.getStats();
      const byId = new Map<string, Record<string, unknown>>();
      stats.forEach((report: Record<string, unknown>) => byId.set(String(report.id), report));
      let pairId: string | undefined;
      byId.forEach((report) => {
        if (report.type === 'transport' && report.selectedCandidatePairId) pairId = String(report.selectedCandidatePairId);
      });
      const pair = pairId ? byId.get(pairId) : undefined;
      if (!pair) throw new Error('no selected candidate pair');
      return {
        local: String(byId.get(String(pair.localCandidateId))?.candidateType),
        remote: String(byId.get(String(pair.remoteCandidateId))?.candidateType),
      };
    });
  }
}
