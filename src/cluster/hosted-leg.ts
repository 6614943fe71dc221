import { parseAddress } from '../calls/address.js';
import type { Leg, TransferOutcome } from '../calls/leg.js';
import { CallFailedError } from '../errors/gateway-error.js';
import type { Logger } from '../logging/logger.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { EndReason, IceCandidate } from '../protocol/messages.js';
import { LEG_EVENTS, type LegCommand } from './bus-messages.js';
import type { CallLink } from './call-link.js';

/** How the host answers a request (deliverCall). */
export type Respond = (outcome: { ok: true } | { ok: false; reason: EndReason; message: string }) => void;

/**
 * Where a party is held (its browser session is on this node), the bridge between its real leg
 * and the call's owner on another node: the leg's events go out as `event`s, the owner's `cmd`s
 * become the leg's commands.
 */
export class HostedLeg {
  readonly #listeners: (() => void)[] = [];
  #released = false;

  constructor(
    readonly leg: Leg,
    readonly link: CallLink,
    /** The node that owns the call. */
    readonly peer: string,
    private readonly logger: Logger,
    /** Called once when the leg is done here. */
    private readonly released: () => void,
  ) {
    for (const event of LEG_EVENTS) {
      const listener = (...args: unknown[]) => {
        this.link.event(event, args);
        if (event === 'ended') this.#release();
      };
      leg.on(event, listener as never);
      this.#listeners.push(() => leg.off(event, listener as never));
    }
  }

  /** A command from the owner. */
  command(op: LegCommand, args: unknown[], respond: Respond): void {
    const leg = this.leg;
    switch (op) {
      case 'deliverCall': {
        const call = args[0] as { callId: string; from: string; sdp: string; fromName?: string };
        leg
          .deliverCall({ callId: call.callId, from: parseAddress(call.from), sdp: String(call.sdp), ...(typeof call.fromName === 'string' ? { fromName: call.fromName } : {}) })
          .then(
            () => respond({ ok: true }),
            (error: unknown) => {
              const failure = error instanceof CallFailedError ? error : new CallFailedError('failed', (error as Error).message);
              respond({ ok: false, reason: failure.reason, message: failure.message });
            },
          );
        return;
      }
      case 'notifyRinging':
        return leg.notifyRinging();
      case 'notifyEarlyMedia':
        return leg.notifyEarlyMedia(String(args[0]));
      case 'notifyAnswered':
        return leg.notifyAnswered(String(args[0]));
      case 'sendCandidate':
        return leg.sendCandidate(args[0] as IceCandidate | null);
      case 'sendOffer':
        return leg.sendOffer(String(args[0]));
      case 'sendAnswer':
        return leg.sendAnswer(String(args[0]));
      case 'sendDtmf':
        return leg.sendDtmf(String(args[0]));
      case 'requestTransfer':
        try {
          if (!leg.requestTransfer(String(args[0]), String(args[1]), args[2] as PartyIdentity)) this.logger.info({ callId: this.link.callId }, 'transfer refused by the party');
        } catch (error) {
          this.logger.info({ callId: this.link.callId, err: error }, 'transfer refused');
        }
        return;
      case 'transferOutcome':
        return leg.transferOutcome(String(args[0]), args[1] as TransferOutcome);
      case 'end':
        leg.end(args[0] as EndReason, typeof args[1] === 'string' ? args[1] : undefined);
        this.#release();
        return;
    }
  }

  /** The owner is gone, or the link to it broke. */
  lost(detail: string): void {
    this.leg.end('node-lost', detail);
    this.#release();
  }

  /** This node is stopping: the owner hears `shutdown` before the party is told. */
  shutdown(): void {
    this.link.event('ended', ['shutdown', 'the node holding this party is shutting down']);
    this.leg.end('shutdown');
    this.#release();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    for (const off of this.#listeners.splice(0)) off();
    this.link.close();
    this.released();
  }
}
