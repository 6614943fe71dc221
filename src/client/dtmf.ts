/**
 * DTMF from the browser: in-band RFC 4733 events through the audio sender's
 * RTCDTMFSender when it can insert them, otherwise `dtmf` frames that the
 * gateway turns into SIP INFO or RFC 4733 events of its own.
 */

const DTMF_DIGITS = /^[0-9A-D*#]+$/;
/** The gateway takes at most 32 digits per `dtmf` frame. */
const MAX_DIGITS_PER_FRAME = 32;

/** Upper-cased digits, or a TypeError for anything that is not 0-9, *, #, A-D. */
export function validDtmfDigits(digits: string): string {
  const tones = String(digits).toUpperCase();
  if (!DTMF_DIGITS.test(tones)) throw new TypeError(`invalid DTMF digits ${JSON.stringify(digits)}: use 0-9, *, #, A-D`);
  return tones;
}

/** Plays `tones` in the media when `sender` can, else hands them to `sendFrame` in chunks; says which was used. */
export function sendDtmfTones(
  sender: RTCDTMFSender | null | undefined,
  tones: string,
  sendFrame: (digits: string) => void,
): 'rtp' | 'signaling' {
  if (sender?.canInsertDTMF) {
    sender.insertDTMF(sender.toneBuffer + tones);
    return 'rtp';
  }
  for (let i = 0; i < tones.length; i += MAX_DIGITS_PER_FRAME) sendFrame(tones.slice(i, i + MAX_DIGITS_PER_FRAME));
  return 'signaling';
}
