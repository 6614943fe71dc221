import type { Address } from '../calls/address.js';
import { BaseLeg, type IncomingCall, type Leg, type LegEvents, type LegMediaCapabilities, type TransferOutcome } from '../calls/leg.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { EndReason, IceCandidate } from '../protocol/messages.js';
import type { LegEventName } from './bus-messages.js';
import type { CallLink } from './call-link.js';

export interface RemoteLegOptions {
  id: string;
  address: Address;
  capabilities: LegMediaCapabilities;
  identity: PartyIdentity;
  /** Whether the party's leg can be asked to transfer (its own requestTransfer). */
  transfers: boolean;
  signalingAddress?: string;
  link: CallLink;
  /** deliverCall is a request: resolved or rejected by the host's answer. */
  request: (args: unknown[]) => Promise<void>;
  /** Called once when the leg is done (ended either way). */
  released: () => void;
}

/**
 * At the call's owner, the leg of a party held by another node: every command becomes a `cmd`
 * on the bus, and the host's `event`s become this leg's events, in the order they were sent.
 */
export class RemoteLeg extends BaseLeg implements Leg {
  readonly id: string;
  readonly address: Address;
  readonly capabilities: LegMediaCapabilities;
  readonly signalingAddress?: string;
  readonly #identity: PartyIdentity;
  readonly #options: RemoteLegOptions;

  constructor(options: RemoteLegOptions) {
    super();
    this.#options = options;
    this.id = options.id;
    this.address = options.address;
    this.capabilities = options.capabilities;
    this.#identity = options.identity;
    if (options.signalingAddress !== undefined) this.signalingAddress = options.signalingAddress;
  }

  override get identity(): PartyIdentity {
    return this.#identity;
  }

  get peer(): string {
    return this.#options.link.peer;
  }

  async deliverCall(call: IncomingCall): Promise<void> {
    await this.#options.request([{ callId: call.callId, from: call.from.uri, sdp: call.sdp, ...(call.fromName !== undefined ? { fromName: call.fromName } : {}) }]);
  }

  notifyRinging(): void {
    this.#command('notifyRinging');
  }

  override notifyEarlyMedia(sdp: string): void {
    this.#command('notifyEarlyMedia', sdp);
  }

  notifyAnswered(sdp: string): void {
    this.#command('notifyAnswered', sdp);
  }

  sendCandidate(candidate: IceCandidate | null): void {
    this.#command('sendCandidate', candidate);
  }

  sendOffer(sdp: string): void {
    this.#command('sendOffer', sdp);
  }

  sendAnswer(sdp: string): void {
    this.#command('sendAnswer', sdp);
  }

  sendDtmf(digits: string): void {
    this.#command('sendDtmf', digits);
  }

  /** Asked at once; a refusal at the host (policy) is only logged there, since the answer must be synchronous. */
  override requestTransfer(target: string, transferId: string, requestedBy: PartyIdentity): boolean {
    if (this.ended || !this.#options.transfers) return false;
    this.#command('requestTransfer', target, transferId, requestedBy);
    return true;
  }

  override transferOutcome(transferId: string, outcome: TransferOutcome): void {
    this.#command('transferOutcome', transferId, outcome);
  }

  /** An event the host sent for this leg's party. */
  hostEvent(event: LegEventName, args: unknown[]): void {
    if (event === 'ended') {
      this.partyEnded(args[0] as EndReason, typeof args[1] === 'string' ? args[1] : undefined);
      return;
    }
    this.emitEvent(event, ...(args as LegEvents[typeof event]));
  }

  /** The host node is gone, or the link to it broke: the party is lost to this call. */
  lost(detail: string): void {
    this.partyEnded('node-lost', detail);
  }

  protected onEnd(reason: EndReason, detail?: string): void {
    this.#options.link.command('end', detail === undefined ? [reason] : [reason, detail]);
  }

  protected override release(): void {
    this.#options.link.close();
    this.#options.released();
  }

  #command(op: 'notifyRinging' | 'notifyEarlyMedia' | 'notifyAnswered' | 'sendCandidate' | 'sendOffer' | 'sendAnswer' | 'sendDtmf' | 'requestTransfer' | 'transferOutcome', ...args: unknown[]): void {
    if (!this.ended) this.#options.link.command(op, args);
  }
}
