import { SessionState, UserAgent, type Referral, type Session } from 'sip.js';
import type { Logger, TransferOutcome } from '../../src/index.js';
import { randomUUID } from 'node:crypto';
import { statusForEndReason } from './sip-reasons.js';

/** What a blind transfer needs from its SIP leg. */
export interface BlindTransferHost {
  /** The leg's dialog, once there is one. */
  session(): Session | undefined;
  isEnded(): boolean;
  /** The party we REFERred reached the target: this leg leaves the call (its BYE is sent). */
  transferred(): void;
  /** The party REFERred us: the call asks the other party to follow it to `target`. */
  transferRequested(target: string, transferId: string): void;
}

/**
 * Blind transfer by REFER (RFC 3515) both ways: we REFER the SIP party to a
 * target and follow its NOTIFYs, or the party REFERs us and we report the
 * transferred call's progress in NOTIFYs with a sipfrag body.
 */
export class BlindTransfer {
  constructor(
    private readonly host: BlindTransferHost,
    /** The gateway's SIP domain: where a transfer to a web user must send the SIP party. */
    private readonly domain: string,
    private readonly logger: Logger,
  ) {}

  /** Blind transfer out: REFER the SIP party to `target` (RFC 3515); it calls the target itself. */
  refer(target: string): boolean {
    const session = this.host.session();
    if (!session || session.state !== SessionState.Established) return false;
    const uri = UserAgent.makeURI(this.#sipUriFor(target));
    if (!uri) return false;
    session
      .refer(uri, {
        // RFC 3515 section 2.4.5: the transferee reports progress; a final 2xx means the
        // transfer took place, and the transferor leaves the call.
        onNotify: (notification) => {
          notification.accept().catch(() => {});
          const status = Number(/^SIP\/2\.0 (\d{3})/m.exec(notification.request.body)?.[1] ?? 0);
          if (status >= 200 && status < 300 && !this.host.isEnded()) {
            session.bye().catch(() => {});
            this.host.transferred();
          }
        },
      })
      .catch((error: unknown) => this.logger.debug({ err: error }, 'REFER failed'));
    return true;
  }

  /**
   * A REFER from the SIP party (it transfers the other party, RFC 3515): accept, report
   * progress, and let the call ask the other party to follow it.
   */
  accept(referral: Referral): void {
    const target = referral.referTo.uri.toString();
    referral
      .accept()
      .then(() => {
        this.#notifyReferrer('SIP/2.0 100 Trying', false);
        this.host.transferRequested(target, randomUUID());
      })
      .catch((error: unknown) => this.logger.debug({ err: error }, 'REFER accept failed'));
  }

  /** The REFER this party sent us: tell it how the transferred call went (NOTIFY with sipfrag, RFC 3515 section 2.4.5). */
  reportOutcome(outcome: TransferOutcome): void {
    const status = outcome.state === 'trying' ? 'SIP/2.0 100 Trying' : outcome.state === 'succeeded' ? 'SIP/2.0 200 OK' : `SIP/2.0 ${statusForEndReason(outcome.reason).statusCode} ${statusForEndReason(outcome.reason).reasonPhrase}`;
    this.#notifyReferrer(status, outcome.state !== 'trying');
  }

  #notifyReferrer(sipfrag: string, final: boolean): void {
    const session = this.host.session();
    const dialog = session?.dialog;
    if (!dialog || session?.state !== SessionState.Established) return;
    try {
      dialog.notify(undefined, {
        extraHeaders: ['Event: refer', `Subscription-State: ${final ? 'terminated;reason=noresource' : 'active;expires=60'}`],
        body: { contentDisposition: 'render', contentType: 'message/sipfrag;version=2.0', content: sipfrag },
      });
    } catch (error) {
      this.logger.debug({ err: error }, 'NOTIFY failed');
    }
  }

  #sipUriFor(target: string): string {
    if (target.startsWith('web:')) return `sip:${target.slice(4)}@${this.domain}`;
    if (target.startsWith('tel:')) return `sip:${target.slice(4)}@${this.domain};user=phone`;
    return target;
  }
}
