/**
 * SIP session timers (RFC 4028): a PBX that asks for them expects the session
 * to be refreshed (re-INVITE) every interval and ends calls that are not.
 */

/** RFC 4028 section 4: the smallest interval anyone may ask for. */
export const MIN_SESSION_EXPIRES_SECONDS = 90;

export interface SessionTimerRequest {
  seconds: number;
  /** Who refreshes, when the request says so. */
  refresher: 'uac' | 'uas' | undefined;
}

/** Reads `Session-Expires: 1800;refresher=uac` (or its compact form `x`); undefined when absent or malformed. */
export function parseSessionExpires(value: string | undefined): SessionTimerRequest | undefined {
  if (!value) return undefined;
  const match = /^\s*(\d{1,10})\s*(;.*)?$/.exec(value);
  if (!match) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(match[2] ?? '')?.[1]?.toLowerCase() as 'uac' | 'uas' | undefined;
  return { seconds: Number(match[1]), refresher };
}

/**
 * The session timer the gateway (as UAS) agrees to (RFC 4028 section 9): the
 * requested interval, and the caller as refresher unless it asked the gateway
 * to refresh.
 */
export function answerSessionTimer(request: SessionTimerRequest): { seconds: number; refresher: 'uac' | 'uas' } {
  return { seconds: request.seconds, refresher: request.refresher ?? 'uac' };
}

/**
 * sip.js answers re-INVITEs itself and takes no extra headers for those
 * answers, but RFC 4028 section 9 wants every 2xx to a refresh to repeat
 * Session-Expires (a refresher that does not see it stops refreshing). The
 * gateway's transport adds the agreed header to 2xx responses to INVITE of
 * the dialogs that negotiated a timer.
 */
export class SessionTimerHeaders {
  readonly #byCallId = new Map<string, string>();

  set(callId: string, timer: { seconds: number; refresher: 'uac' | 'uas' }): void {
    this.#byCallId.set(callId, `Session-Expires: ${timer.seconds};refresher=${timer.refresher}\r\nRequire: timer`);
  }

  delete(callId: string): void {
    this.#byCallId.delete(callId);
  }

  /** Adds the headers to a 2xx to INVITE of a registered dialog that lacks them. */
  apply(message: string): string {
    if (this.#byCallId.size === 0 || !/^SIP\/2\.0 2\d\d /.test(message)) return message;
    const headerEnd = message.indexOf('\r\n\r\n');
    if (headerEnd < 0) return message;
    const head = message.slice(0, headerEnd);
    if (!/^(CSeq|Cseq)\s*:\s*\d+\s+INVITE\s*$/im.test(head) || /^(Session-Expires|x)\s*:/im.test(head)) return message;
    const callId = /^(?:Call-ID|i)\s*:\s*(\S+)\s*$/im.exec(head)?.[1];
    const headers = callId ? this.#byCallId.get(callId) : undefined;
    if (!headers) return message;
    return `${head}\r\n${headers}${message.slice(headerEnd)}`;
  }

  /** Applies the headers to everything a sip.js transport sends. */
  attach(transport: { send(message: string): Promise<void> }): void {
    const send = transport.send.bind(transport);
    transport.send = (message: string) => send(this.apply(message));
  }
}
