import { Core, Inviter, type URI, type UserAgent } from 'sip.js';
import type { EndReason, IncomingCall } from '../../src/index.js';
import { describeStatus, endReasonForStatus } from './sip-reasons.js';

/** The session interval an INVITE asks for (RFC 4028 section 7.1) and the smallest the gateway accepts. */
export interface InviteSessionTimer {
  seconds: number;
  minSeconds: number;
}

/** What an outbound INVITE reports to its SIP leg. */
export interface OutboundInviteHost {
  /** An INVITE is about to go (the first, or the retry after 422): its Inviter is the leg's session now, with our offer. */
  started(inviter: Inviter, retry: boolean): void;
  /** 180 or 183. */
  ringing(): void;
  /** A 183 with SDP. */
  earlyMedia(sdp: string): void;
  /** The 2xx; `askedForTimer` when the INVITE asked for a session timer. */
  accepted(response: Core.IncomingResponseMessage, askedForTimer: boolean): void;
  /** A final failure (or the retry could not go). */
  ended(reason: EndReason, detail: string): void;
}

/**
 * The INVITE, asking for a session timer (RFC 4028 section 7.1: Supported:
 * timer comes from the user agent, Session-Expires and Min-SE from here).
 * After a 422 it goes once more with the peer's Min-SE as interval and
 * Min-SE (section 7.4), in the same Call-ID with the next CSeq (RFC 3261
 * section 8.1.3.5). Resolves once it is on its way.
 */
export async function sendInvite(
  ua: UserAgent,
  target: URI,
  call: IncomingCall,
  timer: InviteSessionTimer | undefined,
  host: OutboundInviteHost,
  retryOf?: Inviter,
): Promise<void> {
  const retryParams: Partial<Core.OutgoingRequestMessageOptions> = retryOf ? { callId: retryOf.request.callId, cseq: retryOf.request.cseq + 1 } : {};
  const inviter = new Inviter(ua, target, {
    // sip.js passes the params through to the request; its typing lists only some of them.
    params: { fromDisplayName: call.fromName ?? call.from.user, ...retryParams } as { fromDisplayName: string },
    ...(timer ? { extraHeaders: [`Session-Expires: ${timer.seconds}`, `Min-SE: ${Math.min(timer.minSeconds, timer.seconds)}`] } : {}),
  });
  host.started(inviter, retryOf !== undefined);
  await inviter.invite({
    requestDelegate: {
      onProgress: (response) => {
        const { statusCode } = response.message;
        if (statusCode === 180 || statusCode === 183) host.ringing();
        // Early media (RFC 3261 section 13.2.1, RFC 3960): a provisional answer with SDP.
        if (statusCode === 183 && /^application\/sdp/i.test(response.message.getHeader('content-type') ?? '') && response.message.body) {
          host.earlyMedia(response.message.body);
        }
      },
      onAccept: (response) => host.accepted(response.message, timer !== undefined),
      onReject: (response) => {
        const statusCode = response.message.statusCode ?? 500;
        const minSe = Number(/^\s*(\d{1,10})/.exec(response.message.getHeader('min-se') ?? '')?.[1]);
        if (statusCode === 422 && !retryOf && timer && minSe > timer.seconds) {
          sendInvite(ua, target, call, { seconds: minSe, minSeconds: minSe }, host, inviter).catch((error: unknown) => host.ended('failed', (error as Error).message));
          return;
        }
        host.ended(endReasonForStatus(statusCode), describeStatus(statusCode, response.message.reasonPhrase ?? ''));
      },
    },
  });
}
