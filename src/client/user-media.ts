/** The microphone (and camera) for calls, with failures as SwitchboardErrors. */

import { SwitchboardError } from './switchboard-error.js';

/** getUserMedia wrapped so failures become SwitchboardErrors. */
export async function getUserMediaStream(audio: boolean | MediaTrackConstraints, video: boolean): Promise<MediaStream> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new SwitchboardError('media-failed', 'getUserMedia is not available (is the page served over https?)');
  }
  try {
    return await navigator.mediaDevices.getUserMedia({ audio, video });
  } catch (err) {
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new SwitchboardError('media-failed', `could not get the microphone/camera (${detail})`, { cause: err });
  }
}
