import { randomUUID } from 'node:crypto';
import { SessionState, UserAgent, type Referral, type Session } from 'sip.js';
import { AddressError, CallFailedError, parseAddress, type Logger, type PartyIdentity, type TransferOutcome } from '../../src/index.js';
import type { SipDialPolicy } from './sip-dial-policy.js';
import { parseSource, SOURCE_HEADER } from './transport/index.js';
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
 * transferred call's progress in NOTIFYs with a sipfrag body. Both ways go
 * through the dial plan: a REFER is a call placed on someone's behalf, the
 * classic way to reach a premium number through a PBX.
 */
export class BlindTransfer {
  constructor(
    private readonly host: BlindTransferHost,
    private readonly dialPolicy: SipDialPolicy,
    /** The SIP party's own identity: what its REFERs may reach. */
    private readonly partyIdentity: () => PartyIdentity,
    private readonly logger: Logger,
  ) {}

  /**
   * Blind transfer out: REFER the SIP party to `target` (RFC 3515); it calls the target itself,
   * so `requestedBy` must be allowed to send it there (CallFailedError 'forbidden' otherwise).
   */
  refer(target: string, requestedBy: PartyIdentity): boolean {
    let address;
    try {
      address = parseAddress(target);
    } catch (error) {
      if (error instanceof AddressError) return false;
      throw error;
    }
    this.dialPolicy.check(address, requestedBy);
    const session = this.host.session();
    if (!session || session.state !== SessionState.Established) return false;
    const uri = UserAgent.makeURI(this.dialPolicy.referToUri(address.uri));
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
    const referTo = referral.referTo.uri.toString();
    const target = this.dialPolicy.referTarget(referTo);
    if (!target) {
      // RFC 3515 section 2.4.2: a Refer-To the gateway cannot act on is refused.
      this.#refuse(referral, 416, 'Unsupported URI Scheme', `cannot transfer to ${referTo}`);
      return;
    }
    // The REFER's own source (stamped by the hub), which may differ from the dialog's first one.
    const source = parseSource(referral.request.getHeader(SOURCE_HEADER))?.address;
    const referrer = source ? { kind: 'external' as const, source } : this.partyIdentity();
    try {
      this.dialPolicy.check(target, referrer);
    } catch (error) {
      if (!(error instanceof CallFailedError)) throw error;
      this.logger.info({ referTo, detail: error.message }, 'REFER refused by the dial plan');
      this.#refuse(referral, 403, 'Forbidden', 'the dial plan does not allow this transfer');
      return;
    }
    referral
      .accept()
      .then(() => {
        this.#notifyReferrer('SIP/2.0 100 Trying', false);
        this.host.transferRequested(target.uri, randomUUID());
      })
      .catch((error: unknown) => this.logger.debug({ err: error }, 'REFER accept failed'));
  }

  #refuse(referral: Referral, statusCode: number, reasonPhrase: string, warning: string): void {
    referral
      .reject({ statusCode, reasonPhrase, extraHeaders: [`Warning: 399 switchboard "${warning.replace(/["\\]/g, '')}"`] })
      .catch((error: unknown) => this.logger.debug({ err: error }, 'REFER reject failed'));
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

}
