import { randomUUID } from 'node:crypto';
import { parseAddress } from '../calls/address.js';
import { BaseLeg, type Leg } from '../calls/leg.js';
import type { RemoteParties } from '../calls/remote-parties.js';
import type { OutboundLegRequest } from '../calls/router.js';
import { CallFailedError, GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../logging/logger.js';
import type { ChatMessage } from '../messaging/chat-router.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { BusMessage, Envelope, LegEventName } from './bus-messages.js';
import { CallLink } from './call-link.js';
import type { ClusterBus } from './cluster-bus.js';
import { HostedLeg } from './hosted-leg.js';
import type { NodeMembership } from './node-membership.js';
import { RemoteLeg } from './remote-leg.js';

/** What this node does for calls and chat owned by other nodes: reach the parties it holds. */
export interface PartyHost {
  /** The leg of a party held here (`sessionId`: the web user's session the owner looked up). */
  hostLeg(request: OutboundLegRequest, sessionId: string | undefined): Promise<Leg>;
  hostChat(message: ChatMessage, sessionId: string | undefined): Promise<void>;
}

interface OwnedLeg {
  link: CallLink;
  leg: RemoteLeg | undefined;
  /** Events that arrived before the host's `opened` did. */
  early: { event: LegEventName; args: unknown[] }[];
}

interface PendingRequest {
  peer: string;
  resolve: (reply: Envelope) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** A bounce can follow a delivered chat message for this long (an XMPP error reply). */
const BOUNCE_WAIT_MS = 60_000;

/**
 * Calls and chat between nodes (RemoteParties over the ClusterBus): RemoteLegs for parties other
 * nodes hold, HostedLegs for parties held here in calls other nodes own. Only messages about a
 * call this node has with their very sender are acted on; a node that stops beating (or a link
 * that loses a message) ends every call through it with `node-lost`.
 */
export class CrossNodeParties implements RemoteParties {
  readonly #owned = new Map<string, OwnedLeg>();
  readonly #hosted = new Map<string, HostedLeg>();
  readonly #requests = new Map<string, PendingRequest>();
  readonly #bounces = new Map<string, { peer: string; undeliverable: NonNullable<ChatMessage['undeliverable']>; timer: NodeJS.Timeout }>();

  constructor(
    private readonly options: { bus: ClusterBus; membership: NodeMembership; host: PartyHost; requestTimeoutMs: number; logger: Logger },
  ) {
    options.bus.on('message', (message) => this.#onMessage(message));
    options.membership.on('nodelost', (node) => this.nodeLost(node, `node ${node} stopped answering`));
  }

  /** Calls with legs on other nodes, owned here and hosted here (for tests and the admin view). */
  get counts(): { owned: number; hosted: number } {
    return { owned: this.#owned.size, hosted: this.#hosted.size };
  }

  async createLeg(nodeId: string, request: OutboundLegRequest, sessionId?: string): Promise<Leg> {
    const { callId } = request;
    const key = keyOf(nodeId, callId);
    if (this.#owned.has(key)) throw new CallFailedError('failed', `call ${callId} already has a party on node ${nodeId}`);
    this.options.membership.watch(nodeId);
    const owned: OwnedLeg = {
      link: new CallLink(nodeId, callId, (message) => this.#send(nodeId, message), (detail) => owned.leg?.lost(detail)),
      leg: undefined,
      early: [],
    };
    this.#owned.set(key, owned);
    let reply: Envelope;
    try {
      const req = randomUUID();
      reply = await this.#request(nodeId, req, {
        kind: 'open',
        req,
        callId,
        target: request.target.uri,
        ...(sessionId ? { sessionId } : {}),
        caller: request.caller,
        onBehalfOf: [...request.onBehalfOf],
        fromAddress: request.from.uri,
      });
    } catch (error) {
      this.#owned.delete(key);
      owned.link.close();
      throw error;
    }
    if (reply.kind !== 'opened') throw new CallFailedError('failed', `node ${nodeId} answered ${reply.kind}`);
    const leg = new RemoteLeg({
      id: callId,
      address: parseAddress(reply.address),
      capabilities: { webrtc: reply.capabilities.webrtc === true, trickle: reply.capabilities.trickle === true },
      identity: reply.identity,
      transfers: reply.transfers === true,
      ...(typeof reply.signalingAddress === 'string' ? { signalingAddress: reply.signalingAddress } : {}),
      link: owned.link,
      request: async (args) => {
        const req = randomUUID();
        const answer = this.#expect(nodeId, req);
        owned.link.command('deliverCall', args, req);
        await answer;
      },
      released: () => this.#owned.delete(key),
    });
    owned.leg = leg;
    for (const { event, args } of owned.early.splice(0)) leg.hostEvent(event, args);
    if (owned.link.closed && !leg.ended) leg.lost(`the link to node ${nodeId} broke during set-up`);
    return leg;
  }

  async deliverChat(nodeId: string, message: ChatMessage, sessionId?: string): Promise<void> {
    const req = randomUUID();
    if (message.undeliverable) {
      const timer = setTimeout(() => this.#bounces.delete(message.id), BOUNCE_WAIT_MS);
      timer.unref();
      this.#bounces.set(message.id, { peer: nodeId, undeliverable: message.undeliverable, timer });
    }
    try {
      await this.#request(nodeId, req, {
        kind: 'chat',
        req,
        ...(sessionId ? { sessionId } : {}),
        message: { id: message.id, from: message.from.uri, sender: message.sender, to: message.to.uri, body: message.body },
      });
    } catch (error) {
      const bounce = this.#bounces.get(message.id);
      if (bounce) clearTimeout(bounce.timer);
      this.#bounces.delete(message.id);
      if (error instanceof GatewayError) throw error;
      throw new GatewayError('undeliverable', (error as Error).message);
    }
  }

  /** Every call through `node` ends with `node-lost`. */
  nodeLost(node: string, detail: string): void {
    for (const [req, pending] of this.#requests) {
      if (pending.peer !== node) continue;
      this.#requests.delete(req);
      clearTimeout(pending.timer);
      pending.reject(new CallFailedError('node-lost', detail));
    }
    for (const owned of [...this.#owned.values()]) {
      if (owned.link.peer !== node) continue;
      owned.link.close();
      owned.leg?.lost(detail);
    }
    for (const hosted of [...this.#hosted.values()]) {
      if (hosted.peer === node) hosted.lost(detail);
    }
  }

  /** This node is stopping: the owners of calls hosted here hear `shutdown` first. */
  shutdown(): void {
    for (const hosted of [...this.#hosted.values()]) hosted.shutdown();
  }

  close(): void {
    for (const pending of this.#requests.values()) {
      clearTimeout(pending.timer);
      pending.reject(new CallFailedError('shutdown', 'this node is stopping'));
    }
    this.#requests.clear();
    for (const bounce of this.#bounces.values()) clearTimeout(bounce.timer);
    this.#bounces.clear();
  }

  #onMessage(message: Envelope): void {
    const peer = message.from;
    switch (message.kind) {
      case 'open':
        return void this.#open(peer, message);
      case 'opened':
        if (!this.#settle(peer, message)) {
          // Set-up given up meanwhile (timeout): release what the host made.
          void this.#send(peer, { kind: 'cmd', callId: message.callId, seq: 1, op: 'end', args: ['failed', 'the call set-up timed out'] });
        }
        return;
      case 'done':
      case 'failed':
        this.#settle(peer, message);
        return;
      case 'cmd': {
        const hosted = this.#hosted.get(keyOf(peer, message.callId));
        // Commands name a call this node hosts for that very node, or they are not for us.
        if (!hosted || !hosted.link.accept(message.seq)) return;
        return hosted.command(message.op, message.args, (outcome) => {
          if (!message.req) return;
          void this.#send(peer, outcome.ok ? { kind: 'done', req: message.req } : { kind: 'failed', req: message.req, reason: outcome.reason, message: outcome.message });
        });
      }
      case 'event': {
        const owned = this.#owned.get(keyOf(peer, message.callId));
        if (!owned || !owned.link.accept(message.seq)) return;
        if (owned.leg) owned.leg.hostEvent(message.event, message.args);
        else owned.early.push({ event: message.event, args: message.args });
        return;
      }
      case 'chat':
        return void this.#chat(peer, message);
      case 'bounce': {
        const bounce = this.#bounces.get(message.messageId);
        if (!bounce || bounce.peer !== peer) return;
        clearTimeout(bounce.timer);
        this.#bounces.delete(message.messageId);
        bounce.undeliverable(message.code, message.message);
        return;
      }
    }
  }

  async #open(peer: string, message: Extract<Envelope, { kind: 'open' }>): Promise<void> {
    const key = keyOf(peer, message.callId);
    const fail = (reason: CallFailedError['reason'], text: string) => {
      this.options.logger.debug({ peer, callId: message.callId, target: message.target, reason, detail: text }, 'party refused to another node');
      void this.#send(peer, { kind: 'failed', req: message.req, reason, message: text });
    };
    if (this.#hosted.has(key)) return fail('failed', `call ${message.callId} is already here`);
    let leg: Leg;
    try {
      leg = await this.options.host.hostLeg(
        {
          callId: message.callId,
          target: parseAddress(message.target),
          from: parseAddress(message.fromAddress),
          caller: message.caller as PartyIdentity,
          onBehalfOf: message.onBehalfOf as PartyIdentity[],
        },
        message.sessionId,
      );
    } catch (error) {
      if (error instanceof CallFailedError) return fail(error.reason, error.message);
      if (error instanceof GatewayError) return fail(error.code === 'shutting-down' ? 'shutdown' : 'failed', error.message);
      this.options.logger.error({ err: error, callId: message.callId, peer }, 'hosting a party for another node failed');
      return fail('failed', 'the party could not be reached on its node');
    }
    this.options.membership.watch(peer);
    const link = new CallLink(peer, message.callId, (out) => this.#send(peer, out), (detail) => hosted.lost(detail));
    const hosted: HostedLeg = new HostedLeg(leg, link, peer, this.options.logger, () => this.#hosted.delete(key));
    this.#hosted.set(key, hosted);
    void this.#send(peer, {
      kind: 'opened',
      req: message.req,
      callId: message.callId,
      address: leg.address.uri,
      capabilities: leg.capabilities,
      identity: leg.identity,
      // Legs that cannot transfer keep BaseLeg's refusal; the owner must answer synchronously.
      transfers: leg.requestTransfer !== BaseLeg.prototype.requestTransfer,
      ...(leg.signalingAddress ? { signalingAddress: leg.signalingAddress } : {}),
    });
  }

  async #chat(peer: string, message: Extract<Envelope, { kind: 'chat' }>): Promise<void> {
    const chat = message.message;
    try {
      await this.options.host.hostChat(
        {
          id: String(chat.id),
          from: parseAddress(chat.from),
          sender: chat.sender,
          to: parseAddress(chat.to),
          body: chat.body,
          undeliverable: (code, text) => void this.#send(peer, { kind: 'bounce', messageId: String(chat.id), code, message: text }),
        },
        message.sessionId,
      );
      void this.#send(peer, { kind: 'done', req: message.req });
    } catch (error) {
      const code = error instanceof GatewayError ? error.code : 'undeliverable';
      void this.#send(peer, { kind: 'failed', req: message.req, reason: 'failed', code, message: (error as Error).message });
    }
  }

  /** Sends a request and waits for its answer (`opened`/`done`, or `failed` as an error). */
  async #request(peer: string, req: string, message: BusMessage): Promise<Envelope> {
    const answer = this.#expect(peer, req);
    const heard = await this.#send(peer, message);
    if (!heard) this.#settleError(req, new CallFailedError('unreachable', `node ${peer} is not listening`));
    return answer;
  }

  #expect(peer: string, req: string): Promise<Envelope> {
    return new Promise<Envelope>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#requests.delete(req);
        reject(new CallFailedError('unreachable', `node ${peer} did not answer within ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.#requests.set(req, { peer, resolve, reject, timer });
    });
  }

  /** Resolves a pending request from its answer; false when nobody waits for it (any more). */
  #settle(peer: string, message: Extract<Envelope, { req: string }>): boolean {
    const pending = this.#requests.get(message.req);
    if (!pending || pending.peer !== peer) return false;
    this.#requests.delete(message.req);
    clearTimeout(pending.timer);
    if (message.kind === 'failed') {
      pending.reject(message.code ? new GatewayError(message.code, String(message.message)) : new CallFailedError(message.reason, String(message.message)));
    } else pending.resolve(message);
    return true;
  }

  #settleError(req: string, error: Error): void {
    const pending = this.#requests.get(req);
    if (!pending) return;
    this.#requests.delete(req);
    clearTimeout(pending.timer);
    pending.reject(error);
  }

  /** Publishes; a Redis that cannot be reached counts as nobody listening (logged). */
  async #send(peer: string, message: BusMessage): Promise<boolean> {
    try {
      return await this.options.bus.send(peer, message);
    } catch (error) {
      this.options.logger.warn({ err: error, peer, kind: message.kind }, 'bus message not sent');
      return false;
    }
  }
}

function keyOf(peer: string, callId: string): string {
  return `${peer} ${callId}`;
}
