/**
 * The call's audio and quality under its status: live microphone and remote
 * level meters, and codec, round-trip time, jitter, loss and media path, all
 * read from the call's `getStats()` (SDK `call.quality()`) four times a second
 * while media flows.
 */

import type { Call, CallQuality } from '../client/index.js';
import { hasLiveMedia } from './call-display.js';
import { ui } from './page-elements.js';

const POLL_MS = 250;

const ms = (value: number | undefined) => (value === undefined ? '–' : `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`);

/** `relay · host ↔ host (udp)`, `anchor · relay ↔ host (udp, TURN)`: how the media travels. */
export function describePath(call: Call, quality: CallQuality): string {
  const pair = quality.candidatePair;
  const ends = pair ? `${pair.local} ↔ ${pair.remote} (${pair.protocol}${pair.local === 'relay' || pair.remote === 'relay' ? ', TURN' : ''})` : 'connecting';
  const path = call.mediaPath === 'anchor' ? 'anchor (through the gateway)' : call.mediaPath === 'relay' ? 'relay (browser to browser)' : undefined;
  return path ? `${path} · ${ends}` : ends;
}

/** Shows a level 0..1 as a bar; perceived loudness is closer to the square root of audioLevel. */
function setLevel(meter: HTMLElement, level: number | undefined): void {
  const value = Math.min(1, Math.max(0, level ?? 0));
  meter.style.width = `${Math.round(Math.sqrt(value) * 100)}%`;
  meter.setAttribute('aria-valuenow', value.toFixed(3));
}

export class QualityPanel {
  private call: Call | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private reading = false;

  /** Follows `call` (or none): the panel shows while it has media. */
  follow(call: Call | undefined): void {
    const live = call !== undefined && call.live && hasLiveMedia(call);
    if (call !== this.call) {
      this.call = call;
      this.clear();
    }
    ui.mediaPanel.hidden = !live;
    if (live && this.timer === undefined) {
      this.timer = setInterval(() => void this.read(), POLL_MS);
      void this.read();
    } else if (!live && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      setLevel(ui.micLevel, 0);
      setLevel(ui.remoteLevel, 0);
    }
  }

  private async read(): Promise<void> {
    const call = this.call;
    if (!call || this.reading) return;
    this.reading = true;
    try {
      const quality = await call.quality();
      if (call !== this.call || !call.live) return;
      this.show(call, quality);
    } catch {
      // A closed peer connection has no stats; the next state change hides the panel.
    } finally {
      this.reading = false;
    }
  }

  private show(call: Call, quality: CallQuality): void {
    // Muted: the track sends silence, and the meter says so whatever the microphone hears.
    setLevel(ui.micLevel, call.muted ? 0 : quality.localLevel);
    setLevel(ui.remoteLevel, quality.remoteLevel);
    ui.qualityCodec.textContent = quality.codec ?? '–';
    ui.qualityRtt.textContent = ms(quality.roundTripTimeMs);
    ui.qualityJitter.textContent = ms(quality.jitterMs);
    ui.qualityLoss.textContent =
      quality.lossRatio === undefined ? '–' : `${(quality.lossRatio * 100).toFixed(quality.lossRatio < 0.1 ? 1 : 0)}% (${quality.packetsLost} of ${quality.packetsLost + quality.packetsReceived})`;
    ui.qualityPath.textContent = describePath(call, quality);
    ui.mediaPanel.dataset.packetsReceived = String(quality.packetsReceived);
  }

  private clear(): void {
    for (const field of [ui.qualityCodec, ui.qualityRtt, ui.qualityJitter, ui.qualityLoss, ui.qualityPath]) field.textContent = '–';
    setLevel(ui.micLevel, 0);
    setLevel(ui.remoteLevel, 0);
    delete ui.mediaPanel.dataset.packetsReceived;
  }
}
