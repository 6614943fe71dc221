/** The public types of a call: its states, its events and the options of `answer()`. */

import type { ClientEndReason } from '../protocol/messages.js';
import type { SwitchboardError } from './switchboard-error.js';

export type CallState = 'calling' | 'ringing' | 'incoming' | 'connecting' | 'active' | 'ended';
export type CallDirection = 'outgoing' | 'incoming';

export interface CallEvents {
  statechange: [state: CallState];
  /** The callee's device is ringing (outgoing calls). */
  ringing: [];
  /** Early media from the callee (ringback, announcements) is playing, before answer. */
  progress: [];
  /** The call was answered: by the remote party (outgoing) or by `answer()` (incoming). */
  answered: [];
  ended: [reason: ClientEndReason, detail: string | undefined];
  /** A remote track was added to `remoteStream` (the same object every time). */
  remotestream: [stream: MediaStream];
  /** DTMF digits the other party sent as a `dtmf` frame (e.g. SIP INFO). */
  dtmf: [digits: string];
  /**
   * The other party transferred this user to `to` (e.g. a SIP REFER). Follow it with
   * `client.call(to, { transferId })` and hang this call up; the demo page does so.
   */
  transfer: [to: string, transferId: string];
  /** The gateway reported an error about this call. */
  error: [error: SwitchboardError];
}

export interface AnswerOptions {
  /** Media to send; the SDK does not stop its tracks. Default: a new getUserMedia stream. */
  stream?: MediaStream;
  /** Ask getUserMedia for audio (default true), or for audio with these constraints (`{ deviceId }`). Ignored with `stream`. */
  audio?: boolean | MediaTrackConstraints;
  /** Ask getUserMedia for video (default false). Ignored with `stream`. */
  video?: boolean;
}
