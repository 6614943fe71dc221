import { GatewayError } from '../errors/gateway-error.js';
import { TypedEmitter } from '../events/typed-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { EndReason } from '../protocol/messages.js';
import type { Address } from './address.js';
import { Call } from './call.js';
import type { Leg } from './leg.js';
import type { MediaSession } from './media-session.js';
import type { Router } from './router.js';

export type CallRegistryEvents = {
  callstart: [call: Call];
  callanswer: [call: Call, setupMs: number];
  icerestart: [call: Call];
  callend: [call: Call, reason: EndReason];
  listenererror: [event: string, error: unknown];
};

export interface PlaceCallRequest {
  id: string;
  caller: Leg;
  target: Address;
  sdp: string;
  fromName?: string;
  /** This call follows a transfer: its outcome is reported to the transferor. */
  transferId?: string;
}

/** How long a transferred party has to place the follow-up call. */
const TRANSFER_FOLLOW_UP_MS = 60_000;

export interface CallRegistryOptions {
  router: Router;
  /** Chooses the media session for a pair of legs. */
  mediaFor: (caller: Leg, callee: Leg) => MediaSession;
  ringTimeoutMs: number;
  logger: Logger;
}

/** Owns every active call: places new ones through the router and forgets them when they end. */
export class CallRegistry extends TypedEmitter<CallRegistryEvents> {
  readonly #calls = new Map<string, Call>();
  /** Transfers waiting for their follow-up call, by transfer id: who asked, and until when. */
  readonly #transfers = new Map<string, { requester: Leg; expiresAt: number }>();
  #accepting = true;

  constructor(private readonly options: CallRegistryOptions) {
    super();
  }

  get(id: string): Call | undefined {
    return this.#calls.get(id);
  }

  has(id: string): boolean {
    return this.#calls.has(id);
  }

  get size(): number {
    return this.#calls.size;
  }

  list(): Call[] {
    return [...this.#calls.values()];
  }

  /** New calls are refused from now on (graceful shutdown); active ones go on. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  get accepting(): boolean {
    return this.#accepting;
  }

  /**
   * Routes the target, creates its leg and starts the call. Rejects (and
   * creates nothing) when the target cannot be reached at all; later failures
   * end the call with a reason instead.
   */
  async place(request: PlaceCallRequest): Promise<Call> {
    if (!this.#accepting) throw new GatewayError('shutting-down', 'the gateway is shutting down');
    if (this.#calls.has(request.id)) throw new GatewayError('duplicate-call-id', `call id ${request.id} is in use`);
    const transferor = request.transferId ? this.#pendingTransfer(request.transferId) : undefined;
    const callee = await this.options.router.createLeg({
      callId: request.id,
      target: request.target,
      from: request.caller.address,
      caller: request.caller.identity,
      // A call that follows someone's transfer goes only where that someone may send it (REFER toll fraud).
      onBehalfOf: transferor ? [transferor.identity] : [],
    });
    if (request.caller.ended || this.#calls.has(request.id)) {
      callee.end('cancelled');
      throw new GatewayError('invalid-state', 'the call ended while it was being routed');
    }
    const call = new Call({
      id: request.id,
      caller: request.caller,
      callee,
      media: this.options.mediaFor(request.caller, callee),
      ringTimeoutMs: this.options.ringTimeoutMs,
      logger: this.options.logger,
    });
    this.#calls.set(call.id, call);
    call.on('transfer', (transferId, requester) => {
      this.#transfers.set(transferId, { requester, expiresAt: Date.now() + TRANSFER_FOLLOW_UP_MS });
    });
    if (request.transferId) this.#followTransfer(request.transferId, call);
    call.on('answered', (setupMs) => this.safeEmit('callanswer', call, setupMs));
    call.on('icerestart', () => this.safeEmit('icerestart', call));
    call.on('ended', (reason) => {
      this.#calls.delete(call.id);
      this.safeEmit('callend', call, reason);
    });
    this.safeEmit('callstart', call);
    this.options.logger.info({ callId: call.id, from: request.caller.address.uri, to: callee.address.uri }, 'call placed');
    call.start(request.sdp, request.fromName);
    return call;
  }

  /** The leg that asked for a transfer still waiting for its follow-up call. */
  #pendingTransfer(transferId: string): Leg | undefined {
    const transfer = this.#transfers.get(transferId);
    return transfer && transfer.expiresAt >= Date.now() ? transfer.requester : undefined;
  }

  /** Reports the follow-up call's progress to the leg that asked for the transfer (SIP: NOTIFY). */
  #followTransfer(transferId: string, call: Call): void {
    const now = Date.now();
    for (const [id, entry] of this.#transfers) if (entry.expiresAt < now) this.#transfers.delete(id);
    const transfer = this.#transfers.get(transferId);
    if (!transfer) return;
    this.#transfers.delete(transferId);
    const { requester } = transfer;
    requester.transferOutcome(transferId, { state: 'trying' });
    call.on('answered', () => requester.transferOutcome(transferId, { state: 'succeeded' }));
    call.on('ended', (reason) => {
      if (call.answeredAt === undefined) requester.transferOutcome(transferId, { state: 'failed', reason });
    });
  }

  /** Ends every call with `reason`. */
  hangupAll(reason: EndReason): void {
    for (const call of this.list()) call.hangup(reason);
  }
}
