import { EmitterImpl, TransportState, type Emitter, type Transport, type UserAgentOptions } from 'sip.js';
import { SipTransportError } from './sip-transport-error.js';

/** What a SipJsTransport needs from the hub that owns the wire. */
export interface SipJsTransportLink {
  readonly closed: boolean;
  send(transport: SipJsTransport, message: string): Promise<void>;
  release(transport: SipJsTransport): void;
}

/**
 * The sip.js `Transport` of one UserAgent, backed by the hub's sockets. sip.js
 * gives send() no destination and onMessage() no source, so this object only
 * carries strings: the hub decides where each message goes (RFC 3261 section
 * 18) and which UserAgent gets each message that arrives.
 *
 * State machine exactly as sip.js documents it (api/transport.d.ts):
 * Disconnected -> Connecting -> Connected -> Disconnecting -> Disconnected,
 * with onConnect on entering Connected and onDisconnect on leaving it. The
 * hub's sockets are already bound, so connecting never waits for the network.
 */
export class SipJsTransport implements Transport {
  /**
   * sip.js writes this into the Via it builds; the hub rewrites the Via's
   * transport to the one it really uses, so the value does not matter on the wire.
   */
  readonly protocol = 'UDP';
  readonly stateChange: Emitter<TransportState>;
  onConnect: (() => void) | undefined;
  onDisconnect: ((error?: Error) => void) | undefined;
  onMessage: ((message: string) => void) | undefined;
  readonly counters = { messagesIn: 0, messagesOut: 0 };

  readonly #stateEmitter = new EmitterImpl<TransportState>();
  readonly #link: SipJsTransportLink;
  #state: TransportState = TransportState.Disconnected;
  #disposed = false;

  constructor(
    readonly name: string,
    link: SipJsTransportLink,
  ) {
    this.#link = link;
    this.stateChange = this.#stateEmitter;
  }

  get state(): TransportState {
    return this.#state;
  }

  isConnected(): boolean {
    return this.#state === TransportState.Connected;
  }

  async connect(): Promise<void> {
    if (this.#state === TransportState.Connected) return;
    if (this.#disposed || this.#link.closed) {
      throw new SipTransportError('closed', `SIP transport ${this.name} cannot connect: ${this.#disposed ? 'disposed' : 'hub closed'}`);
    }
    if (this.#state !== TransportState.Connecting) this.#transition(TransportState.Connecting);
    // Resolve in a later microtask: sip.js forbids state changes that loop back synchronously.
    await Promise.resolve();
    // Read afresh: a concurrent connect() or disconnect() may have moved the state meanwhile.
    const now = this.#stateNow();
    if (now === TransportState.Connected) return;
    if (now !== TransportState.Connecting) {
      throw new SipTransportError('disconnected', `SIP transport ${this.name} was disconnected while connecting`);
    }
    this.#transition(TransportState.Connected);
  }

  async disconnect(): Promise<void> {
    if (this.#state === TransportState.Disconnected) return;
    if (this.#state !== TransportState.Disconnecting) this.#transition(TransportState.Disconnecting);
    await Promise.resolve();
    if (this.#state === TransportState.Disconnecting) this.#transition(TransportState.Disconnected);
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    await this.disconnect();
    this.#disposed = true;
    this.#link.release(this);
    this.#stateEmitter.removeAllListeners();
  }

  send(message: string): Promise<void> {
    if (this.#state !== TransportState.Connected) {
      return Promise.reject(new SipTransportError('disconnected', `SIP transport ${this.name} is ${this.#state}`));
    }
    this.counters.messagesOut++;
    return this.#link.send(this, message);
  }

  /** Hands a message from the wire to sip.js; false when not Connected (the contract forbids delivery then). */
  receive(message: string): boolean {
    if (this.#state !== TransportState.Connected || !this.onMessage) return false;
    this.counters.messagesIn++;
    this.onMessage(message);
    return true;
  }

  /** The hub closed under the UserAgent: network lost, as far as sip.js is concerned. */
  hubClosed(): void {
    if (this.#state === TransportState.Disconnected) return;
    this.#transition(TransportState.Disconnected, new SipTransportError('closed', 'SIP transport hub closed'));
  }

  #stateNow(): TransportState {
    return this.#state;
  }

  #transition(next: TransportState, error?: Error): void {
    const previous = this.#state;
    this.#state = next;
    this.#stateEmitter.emit(next);
    if (next === TransportState.Connected) this.onConnect?.();
    if (previous === TransportState.Connected && next !== TransportState.Connected) {
      // sip.js contract: the error is undefined only when the user asked to disconnect.
      this.onDisconnect?.(next === TransportState.Disconnecting ? undefined : (error ?? new SipTransportError('disconnected', 'disconnected')));
    }
  }
}

/**
 * sip.js's UserAgent constructs its transport itself (`new
 * transportConstructor(logger, transportOptions)`), so it cannot be handed an
 * instance. This returns a constructor that yields the given instance: a
 * JavaScript constructor that returns an object makes `new` return that object.
 */
export function transportConstructorFor(transport: SipJsTransport): NonNullable<UserAgentOptions['transportConstructor']> {
  function HubTransport(): SipJsTransport {
    return transport;
  }
  return HubTransport as unknown as NonNullable<UserAgentOptions['transportConstructor']>;
}
