/**
 * SIP session timers (RFC 4028): a PBX that asks for them expects the session
 * to be refreshed (re-INVITE or UPDATE) every interval and ends calls that are not.
 */

/** RFC 4028 section 4: the smallest interval anyone may ask for. */
export const MIN_SESSION_EXPIRES_SECONDS = 90;

export interface SessionTimerRequest {
  seconds: number;
  /** Who refreshes, when the request says so. */
  refresher: 'uac' | 'uas' | undefined;
}

/**
 * An agreed session timer as the gateway sees it. `uac`/`uas` in the headers
 * name the roles of one transaction, which flip between a refresh the peer
 * sends and one the gateway sends; the dialog's refresher does not.
 */
export interface AgreedSessionTimer {
  seconds: number;
  refresher: 'gateway' | 'peer';
}

/** Reads `Session-Expires: 1800;refresher=uac` (or its compact form `x`); undefined when absent or malformed. */
export function parseSessionExpires(value: string | undefined): SessionTimerRequest | undefined {
  if (!value) return undefined;
  const match = /^\s*(\d{1,10})\s*(;.*)?$/.exec(value);
  if (!match) return undefined;
  const refresher = /;\s*refresher\s*=\s*(uac|uas)\b/i.exec(match[2] ?? '')?.[1]?.toLowerCase() as 'uac' | 'uas' | undefined;
  return { seconds: Number(match[1]), refresher };
}

/** `refresher=` for a transaction the peer sent (the peer is its UAC). */
export function refresherInPeerRequest(timer: AgreedSessionTimer): 'uac' | 'uas' {
  return timer.refresher === 'peer' ? 'uac' : 'uas';
}

/** `refresher=` for a transaction the gateway sent (the gateway is its UAC). */
export function refresherInOwnRequest(timer: AgreedSessionTimer): 'uac' | 'uas' {
  return timer.refresher === 'gateway' ? 'uac' : 'uas';
}

/**
 * The session timer the gateway (as UAS) agrees to (RFC 4028 section 9): the
 * requested interval, and the caller as refresher unless it asked the gateway
 * to refresh.
 */
export function answerSessionTimer(request: SessionTimerRequest): AgreedSessionTimer {
  return { seconds: request.seconds, refresher: request.refresher === 'uas' ? 'gateway' : 'peer' };
}

export type RefreshAnswer =
  | { kind: 'too-small'; minSeconds: number }
  | { kind: 'agreed'; timer: AgreedSessionTimer | undefined; headers: string[] };

/**
 * The gateway as UAS of a session refresh from the peer (a re-INVITE or an
 * UPDATE, RFC 4028 section 9). A refresh that names an interval sets it (422
 * below the minimum, section 8.1); one that does not keeps the timer in force,
 * which the 2xx repeats so the refresher keeps refreshing. A peer without
 * `Supported: timer` cannot refresh, so the gateway does (section 9).
 */
export function answerRefresh(
  request: { sessionExpires: SessionTimerRequest | undefined; supportsTimer: boolean },
  current: AgreedSessionTimer | undefined,
  minSeconds: number,
): RefreshAnswer {
  const asked = request.sessionExpires;
  if (asked && asked.seconds < minSeconds) return { kind: 'too-small', minSeconds };
  let timer: AgreedSessionTimer | undefined = current;
  if (asked) {
    const refresher = asked.refresher === 'uac' ? 'peer' : asked.refresher === 'uas' ? 'gateway' : (current?.refresher ?? 'peer');
    timer = { seconds: asked.seconds, refresher };
  }
  if (!timer) return { kind: 'agreed', timer: undefined, headers: [] };
  if (!request.supportsTimer) timer = { ...timer, refresher: 'gateway' };
  const headers = [`Session-Expires: ${timer.seconds};refresher=${refresherInPeerRequest(timer)}`];
  if (request.supportsTimer) headers.push('Require: timer');
  return { kind: 'agreed', timer, headers };
}

/**
 * The gateway as UAC (RFC 4028 section 7.2): the 2xx to its INVITE or refresh
 * decides the interval and the refresher; a 2xx without Session-Expires means
 * the peer does not run a timer, and neither does the gateway.
 */
export function timerFromOwnRequestResponse(sessionExpires: SessionTimerRequest | undefined): AgreedSessionTimer | undefined {
  if (!sessionExpires) return undefined;
  // Section 7.2: a 2xx must name the refresher; if it does not, the UAC refreshes.
  return { seconds: sessionExpires.seconds, refresher: sessionExpires.refresher === 'uas' ? 'peer' : 'gateway' };
}

/** Whether a Supported or Require header value lists the `timer` option tag. */
export function listsTimer(value: string | undefined): boolean {
  return (value ?? '').split(',').some((tag) => tag.trim().toLowerCase() === 'timer');
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

  set(callId: string, timer: AgreedSessionTimer): void {
    this.#byCallId.set(callId, `Session-Expires: ${timer.seconds};refresher=${refresherInPeerRequest(timer)}\r\nRequire: timer`);
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
