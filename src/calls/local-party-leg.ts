import type { EndReason } from '../protocol/messages.js';
import { BaseLeg } from './leg.js';

/**
 * A leg whose party lives inside the gateway process (a built-in service, a
 * benchmark's or test's media peer): nothing to signal, so the call's
 * commands are no-ops. Subclasses deliver the call and emit what the party
 * does.
 */
export abstract class LocalPartyLeg extends BaseLeg {
  notifyRinging(): void {}
  notifyAnswered(_sdp: string): void {}
  sendCandidate(): void {}
  sendOffer(_sdp: string): void {}
  sendAnswer(_sdp: string): void {}
  sendDtmf(_digits: string): void {}
  protected onEnd(_reason: EndReason, _detail?: string): void {}
}
