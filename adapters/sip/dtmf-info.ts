/**
 * DTMF in SIP INFO bodies, as PBXs and phones send it when RFC 4733 is not
 * negotiated: `application/dtmf-relay` (`Signal=5\r\nDuration=160`) and
 * `application/dtmf` (the bare digit).
 */
const DIGIT = /^[0-9*#A-Da-d]$/;

/** The digit an INFO carries, or undefined when the body is not DTMF. */
export function parseDtmfInfo(contentType: string, body: string): string | undefined {
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/dtmf-relay') {
    const signal = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(body)?.[1];
    return signal && DIGIT.test(signal) ? signal.toUpperCase() : undefined;
  }
  if (type === 'application/dtmf') {
    const digit = body.trim();
    return DIGIT.test(digit) ? digit.toUpperCase() : undefined;
  }
  return undefined;
}

export function dtmfInfoBody(digit: string, durationMs = 160): { contentDisposition: string; contentType: string; content: string } {
  return { contentDisposition: 'render', contentType: 'application/dtmf-relay', content: `Signal=${digit}\r\nDuration=${durationMs}\r\n` };
}
