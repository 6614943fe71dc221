/**
 * Microphone and speaker choice. The lists come from enumerateDevices (labels
 * only once the page has microphone permission, so they are read again when a
 * call starts and when devices change). The microphone applies to the next
 * call and, switched during a call, to the current one; the speaker is the
 * remote audio element's output (setSinkId, where the browser has it).
 */

import type { Call } from '../client/index.js';
import { showError } from './error-toast.js';
import { ui } from './page-elements.js';

type SinkAudio = HTMLAudioElement & { setSinkId?: (id: string) => Promise<void> };

function fill(select: HTMLSelectElement, devices: MediaDeviceInfo[], kind: 'audioinput' | 'audiooutput'): void {
  const chosen = select.value;
  const options = devices
    .filter((device) => device.kind === kind && device.deviceId !== '' && device.deviceId !== 'default')
    .map((device, index) => {
      const option = document.createElement('option');
      option.value = device.deviceId;
      option.textContent = device.label || `${kind === 'audioinput' ? 'Microphone' : 'Speaker'} ${index + 1}`;
      return option;
    });
  const first = document.createElement('option');
  first.value = '';
  first.textContent = 'Default';
  select.replaceChildren(first, ...options);
  select.value = options.some((option) => option.value === chosen) ? chosen : '';
}

export class AudioDevices {
  constructor(private readonly current: () => Call | undefined) {
    navigator.mediaDevices?.addEventListener?.('devicechange', () => void this.refresh());
    ui.micSelect.addEventListener('change', () => void this.onMicrophoneChosen());
    ui.speakerSelect.addEventListener('change', () => void this.onSpeakerChosen());
    // The speaker menu needs setSinkId; browsers without it play on the default output.
    ui.speakerSelect.disabled = typeof (ui.remoteAudio as SinkAudio).setSinkId !== 'function';
  }

  /** Constraints for the next call's microphone (`true`: the default one). */
  microphone(): boolean | MediaTrackConstraints {
    return ui.micSelect.value ? { deviceId: { exact: ui.micSelect.value } } : true;
  }

  async refresh(): Promise<void> {
    if (!navigator.mediaDevices?.enumerateDevices) return;
    const devices = await navigator.mediaDevices.enumerateDevices();
    fill(ui.micSelect, devices, 'audioinput');
    fill(ui.speakerSelect, devices, 'audiooutput');
  }

  private async onMicrophoneChosen(): Promise<void> {
    const call = this.current();
    if (!call?.live || !call.localStream) return;
    try {
      await call.setMicrophone(ui.micSelect.value ? { deviceId: { exact: ui.micSelect.value } } : {});
    } catch (error) {
      showError(error);
    }
  }

  private async onSpeakerChosen(): Promise<void> {
    const audio = ui.remoteAudio as SinkAudio;
    try {
      await audio.setSinkId?.(ui.speakerSelect.value);
    } catch (error) {
      showError(error);
    }
  }
}
