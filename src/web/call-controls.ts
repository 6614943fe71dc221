/**
 * The buttons of the current call (answer, decline, hang up, mute, hold) and
 * the keypad: digits are DTMF during a call (typed or clicked) and go into the
 * dial field otherwise.
 */

import type { Call } from '../client/index.js';
import { hasLiveMedia } from './call-display.js';
import { showError } from './error-toast.js';
import { ui } from './page-elements.js';
import type { Tones } from './tones.js';

export interface CallControlsPage {
  /** The page's one current call. */
  current(): Call | undefined;
  render(): void;
  tones: Tones;
  /** The microphone the user chose (constraints), or `true` for the default one. */
  microphone(): boolean | MediaTrackConstraints;
}

export function listenToCallControls(page: CallControlsPage): void {
  ui.answer.addEventListener('click', () => {
    const call = page.current();
    if (!call || call.state !== 'incoming') return;
    page.tones.unlock();
    ui.answer.disabled = true;
    call
      .answer({ audio: page.microphone() })
      .catch(showError)
      .finally(() => {
        ui.answer.disabled = false;
        page.render();
      });
  });

  ui.reject.addEventListener('click', () => {
    const call = page.current();
    if (call?.state === 'incoming') call.reject('declined');
  });

  ui.hangup.addEventListener('click', () => page.current()?.hangup());

  ui.mute.addEventListener('click', () => {
    const call = page.current();
    if (!call?.live) return;
    call.setMuted(!call.muted);
    page.render();
  });

  ui.hold.addEventListener('click', () => {
    const call = page.current();
    if (!call?.live) return;
    ui.hold.disabled = true;
    call
      .hold(!call.onHold)
      .catch(showError)
      .finally(() => page.render());
  });

  const pressDigit = (digit: string): void => {
    page.tones.unlock();
    page.tones.dtmf(digit);
    const call = page.current();
    if (call?.live && hasLiveMedia(call)) {
      try {
        call.sendDtmf(digit);
      } catch (error) {
        showError(error);
      }
      return;
    }
    if (!ui.dial.disabled) {
      ui.dial.value += digit;
      ui.dial.focus();
    }
  };

  ui.keypad.addEventListener('click', (event) => {
    const button = (event.target as Element).closest<HTMLButtonElement>('button[data-digit]');
    if (button?.dataset.digit) pressDigit(button.dataset.digit);
  });

  // Digits typed outside a text field go to the keypad during a call.
  document.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target as HTMLElement | null;
    if (target?.closest('input, textarea, select')) return;
    const call = page.current();
    if (call?.live && hasLiveMedia(call) && /^[0-9*#]$/.test(event.key)) pressDigit(event.key);
  });
}
