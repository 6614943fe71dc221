import { expect } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';

/** What the page's WebRTC stats say about received audio. */
export interface InboundAudio {
  packetsReceived: number;
  totalAudioEnergy: number;
  maxAudioLevel: number;
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
