import { randomUUID } from 'node:crypto';
import type { RawData, WebSocket } from 'ws';
import { AccessTokenError, USER_NAME_PATTERN, verifyAccessToken } from '../auth/access-token.js';
import { AddressError, parseAddress, webAddress, type Address } from '../calls/address.js';
import { CallFailedError, GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../logging/logger.js';
import type { WebIdentity } from '../policy/party-identity.js';
import {
  CloseCode,
  PROTOCOL_VERSION,
  type ClientMessage,
  type ErrorCode,
  type ServerMessage,
} from '../protocol/messages.js';
import { parseClientMessage, peekRequestId, ProtocolError } from '../protocol/parse-client-message.js';
import { RateLimiter } from './rate-limiter.js';
import { RecentlyEndedCalls } from './recently-ended-calls.js';
import { ReplayBuffer } from './replay-buffer.js';
import type { SignalingContext } from './signaling-context.js';
import { WebLeg } from './web-leg.js';

type Message<T extends ClientMessage['type']> = Extract<ClientMessage, { type: T }>;

/**
 * Frames kept for a resume: enough for what a dead socket swallows before the ping finds it
 * and for a call's frames while the browser is away; beyond, the session cannot be resumed.
 */
const REPLAY_MAX_FRAMES = 128;
const REPLAY_MAX_BYTES = 256 * 1024;

/**
 * The close code `ws` reports when the connection ended without a close frame: the network went
 * (a reset, a cut, a missed ping that terminated it). A close frame, with any code, is a close the
 * client (or a proxy speaking for it) meant: its session ends at once.
 */
const ABNORMAL_CLOSURE = 1006;

/**
 * One browser connection: authenticates it, validates its frames, and turns
 * them into calls and leg events. Frames are handled one at a time, in order
 * (login is asynchronous; a `call` sent right behind it must wait for it).
 *
 * A logged-in session outlives a connection that drops without a close frame
 * (or misses a ping) for `signaling.resumeWindowMs`: it is detached, keeps its
 * calls and registrations, numbers and keeps what it sends, and a `resume` on
 * a new connection hands that connection's socket to it (adopt).
 */
export class BrowserSession {
  readonly id = randomUUID();
  user: string | undefined;
  #identity: WebIdentity | undefined;
  presenceSubscribed = false;
  readonly #legs = new Map<string, WebLeg>();
  readonly #recentlyEnded = new RecentlyEndedCalls();
  readonly #limiter: RateLimiter;
  readonly #logger: Logger;
  #queue: Promise<void> = Promise.resolve();
  #violations = 0;
  #lastRateError = 0;
  #closed = false;
  #loginTimer: NodeJS.Timeout | undefined;
  /** Undefined while detached (waiting for a resume). */
  #socket: WebSocket | undefined;
  /** Removes this session's listeners from #socket. */
  #unlisten: () => void = () => {};
  /** Set after `welcome` when resumes are on: every frame sent after it is numbered and kept. */
  #replay: ReplayBuffer | undefined;
  #resumeTimer: NodeJS.Timeout | undefined;
  alive = true;

  constructor(
    socket: WebSocket,
    private readonly context: SignalingContext,
    private readonly requestHost: string | undefined,
    /** The client's address (after trusted proxies): what per-source limits count. */
    readonly source: string,
  ) {
    const { rateLimit, loginTimeoutMs } = context.config;
    this.#limiter = new RateLimiter(rateLimit.messagesPerSecond, rateLimit.burst);
    this.#logger = context.logger.child({ sessionId: this.id });
    this.#loginTimer = setTimeout(() => this.close(CloseCode.loginTimeout, 'login timeout'), loginTimeoutMs);
    this.#attach(socket);
  }

  get callCount(): number {
    return this.#legs.size;
  }

  /** Waiting for its browser to come back (`resume`): no connection, calls kept. */
  get detached(): boolean {
    return !this.#closed && this.#socket === undefined;
  }

  send(message: ServerMessage): void {
    if (this.#closed) return;
    const text = JSON.stringify(message);
    if (this.#replay) {
      this.#replay.push(text);
      // Away longer than the buffer can cover: the browser could not be brought up to date.
      if (this.detached && this.#replay.full) return this.#expire('too many frames while away');
    }
    const socket = this.#socket;
    if (socket && socket.readyState === socket.OPEN) socket.send(text);
  }

  ping(): void {
    if (!this.#closed) this.#socket?.ping();
  }

  /** The socket missed a ping (half-open TCP, sleeping laptop): it is dropped as a lost connection is. */
  connectionDead(): void {
    this.#socket?.terminate();
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.#socket?.close(code, reason);
    this.#onClosed();
  }

  /** What a client that got `received` frames missed, or undefined when this session cannot give it (closed, or no longer kept). */
  #missedFrames(received: number): string[] | undefined {
    return this.#closed ? undefined : this.#replay?.after(received);
  }

  /**
   * Takes over `socket` for a `resume`: the session's old socket, if it still seems open (the
   * browser noticed the loss first), is dropped. Answers `resumed` and sends again what the client
   * missed (`missed`, from #missedFrames).
   */
  #adopt(socket: WebSocket, request: Message<'resume'>, missed: string[]): void {
    clearTimeout(this.#resumeTimer);
    const old = this.#socket;
    if (old) {
      this.#unlisten();
      old.terminate();
    }
    this.#attach(socket);
    this.alive = true;
    this.context.metrics.sessionResumes.inc({ outcome: 'resumed' });
    this.#logger.info({ user: this.user, replayed: missed.length }, 'session resumed');
    socket.send(JSON.stringify({
      type: 'resumed',
      ...(request.id ? { id: request.id } : {}),
      user: this.user!,
      sessionId: this.id,
      resume: this.#grant(),
      replayed: missed.length,
    } satisfies ServerMessage));
    for (const text of missed) socket.send(text);
  }

  #attach(socket: WebSocket): void {
    this.#socket = socket;
    const onMessage = (data: RawData, isBinary: boolean): void => this.#onFrame(data, isBinary);
    const onClose = (code: number): void => this.#onSocketClosed(socket, code);
    const onError = (error: Error): void => this.#logger.debug({ err: error }, 'socket error');
    const onPong = (): void => {
      this.alive = true;
    };
    socket.on('message', onMessage).on('close', onClose).on('error', onError).on('pong', onPong);
    // Only ours: the WebSocketServer keeps listeners of its own on the socket (its client set).
    this.#unlisten = () => {
      socket.off('message', onMessage).off('close', onClose).off('error', onError).off('pong', onPong);
      socket.on('error', () => {});
    };
  }

  /** Hands this (not logged-in) connection's socket to the session being resumed; this one ends quietly. */
  #release(): WebSocket {
    const socket = this.#socket!;
    this.#unlisten();
    this.#socket = undefined;
    this.#closed = true;
    clearTimeout(this.#loginTimer);
    this.context.onSessionClosed(this);
    return socket;
  }

  #onSocketClosed(socket: WebSocket, code: number): void {
    if (this.#closed || socket !== this.#socket) return;
    const windowMs = this.context.config.resumeWindowMs;
    if (!this.user || !this.#replay || windowMs === 0 || code !== ABNORMAL_CLOSURE) return this.#onClosed();
    this.#socket = undefined;
    this.context.metrics.sessionsDetached.inc();
    this.#logger.info({ user: this.user, code, calls: this.#legs.size, windowMs }, 'connection lost; the session waits for a resume');
    this.#resumeTimer = setTimeout(() => this.#expire('not resumed in time'), windowMs);
  }

  #expire(why: string): void {
    if (this.#closed) return;
    this.context.metrics.sessionResumes.inc({ outcome: 'expired' });
    this.#logger.info({ user: this.user, calls: this.#legs.size }, `session ended: ${why}`);
    this.#onClosed();
  }

  /** A new resume token for this session (the last one is spent) and the window it is good for. */
  #grant(): { token: string; windowMs: number } {
    return { token: this.context.resumeTokens.issue(this), windowMs: this.context.config.resumeWindowMs };
  }

  forgetLeg(callId: string): void {
    const leg = this.#legs.get(callId);
    this.#legs.delete(callId);
    if (leg) this.#recentlyEnded.add(callId);
    if (leg?.role === 'caller') this.context.releaseCall(this);
  }

  /** Creates the leg for a call arriving at this browser (called by the web leg factory). */
  createCalleeLeg(callId: string): WebLeg {
    if (this.#closed || !this.user) throw new CallFailedError('offline', 'the user went offline');
    // A new call would ring nowhere; the caller had better try again than wait out the window.
    if (this.detached) throw new CallFailedError('offline', 'the user lost their connection');
    if (this.#legs.size >= this.context.config.maxCallsPerConnection) {
      throw new CallFailedError('busy', 'the user is on too many calls');
    }
    const leg = new WebLeg(callId, webAddress(this.user), 'callee', this, this.#identity!);
    this.#legs.set(callId, leg);
    return leg;
  }

  #onFrame(data: unknown, isBinary: boolean): void {
    if (this.#closed) return;
    if (!this.#limiter.take()) {
      this.#violation();
      const now = Date.now();
      // One error per second is enough to tell a flooding client; more would double the flood.
      if (now - this.#lastRateError >= 1000) {
        this.#lastRateError = now;
        this.sendError('rate-limited', 'too many frames; this one was dropped');
      }
      return;
    }
    if (isBinary) {
      this.#violation();
      this.sendError('bad-message', 'binary frames are not supported');
      return;
    }
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    let message: ClientMessage;
    try {
      message = parseClientMessage(text);
    } catch (error) {
      this.#violation();
      const code = error instanceof ProtocolError ? error.code : 'bad-message';
      this.sendError(code, (error as Error).message, peekRequestId(text));
      return;
    }
    this.#queue = this.#queue.then(() => this.#dispatch(message));
  }

  async #dispatch(message: ClientMessage): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#handle(message);
    } catch (error) {
      if (error instanceof GatewayError) {
        this.sendError(error.code, error.message, message.id, 'callId' in message ? message.callId : undefined);
      } else {
        this.#logger.error({ err: error, type: message.type }, 'frame handler failed');
        this.sendError('internal', 'internal error', message.id);
      }
    }
  }

  async #handle(message: ClientMessage): Promise<void> {
    if (message.type === 'ping') return this.send(message.id ? { type: 'pong', id: message.id } : { type: 'pong' });
    if (message.type === 'login') return this.#login(message);
    if (message.type === 'resume') return this.#resume(message);
    if (!this.user) throw new GatewayError('not-logged-in', `log in before sending "${message.type}"`);
    switch (message.type) {
      case 'presence-subscribe':
        return this.#subscribePresence(message);
      case 'message':
        return this.#chat(message);
      case 'call':
        return this.#call(message); // acks itself: the ack must precede an immediate `ended`
      case 'ringing':
        this.#callee(message.callId, 'ringing').partyRinging();
        break;
      case 'accept': {
        const leg = this.#callee(message.callId, 'accept');
        if (leg.answered) throw new GatewayError('invalid-state', 'the call is already answered');
        leg.partyAccepted(message.sdp);
        break;
      }
      case 'reject': {
        const leg = this.#callee(message.callId, 'reject');
        if (leg.answered) throw new GatewayError('invalid-state', 'an answered call is ended with hangup');
        leg.partyRejected(message.reason ?? 'declined');
        break;
      }
      case 'hangup':
        if (this.#endedJustNow(message.callId)) break;
        this.#leg(message.callId).partyHungUp(message.reason, message.detail);
        break;
      case 'candidate':
        if (this.#endedJustNow(message.callId)) break;
        this.#leg(message.callId).partyCandidate(message.candidate);
        break;
      case 'offer':
        this.#answeredLeg(message.callId).partyOffer(message.sdp);
        break;
      case 'answer':
        this.#answeredLeg(message.callId).partyAnswer(message.sdp);
        break;
      case 'dtmf':
        this.#answeredLeg(message.callId).partyDtmf(message.digits.toUpperCase());
        break;
      case 'transfer': {
        const refused = this.#answeredLeg(message.callId).partyTransfer(parseTarget(message.to).uri, randomUUID());
        if (refused === 'forbidden') throw new GatewayError('forbidden', `the dial plan does not let ${this.user} transfer the call to ${message.to}`);
        if (refused) throw new GatewayError('invalid-state', `the other party cannot be transferred (${refused})`);
        break;
      }
    }
    this.#ack(message);
  }

  async #login(message: Message<'login'>): Promise<void> {
    if (this.user) throw new GatewayError('already-logged-in', `already logged in as ${this.user}`);
    if (message.protocol !== PROTOCOL_VERSION) {
      throw new GatewayError('unsupported-protocol', `this gateway speaks protocol ${PROTOCOL_VERSION}`);
    }
    const identity = await this.#authenticate(message);
    if (this.#closed) return;
    const { user } = identity;
    const { directory, sessions, nodeId } = this.context;
    const outcome = await directory.register({ user, sessionId: this.id, nodeId, since: Date.now(), guest: identity.kind === 'guest' });
    if (!outcome.registered) {
      throw new GatewayError('name-taken', `${user} is logged in; a guest cannot take a name in use`);
    }
    const replaced = outcome.replaced;
    if (this.#closed) {
      await directory.unregister(user, this.id);
      return;
    }
    this.user = user;
    this.#identity = identity;
    this.context.onSessionLoggedIn(this);
    clearTimeout(this.#loginTimer);
    sessions.set(this.id, this);
    this.#logger.info({ user }, 'logged in');
    const resumable = this.context.config.resumeWindowMs > 0;
    this.send({
      type: 'welcome',
      ...(message.id ? { id: message.id } : {}),
      protocol: PROTOCOL_VERSION,
      user,
      address: webAddress(user).uri,
      sessionId: this.id,
      iceServers: this.context.iceServersFor(user, this.requestHost),
      ...(identity.kind === 'guest' ? { guest: true } : {}),
      ...(resumable ? { resume: this.#grant() } : {}),
    });
    if (resumable) this.#replay = new ReplayBuffer(REPLAY_MAX_FRAMES, REPLAY_MAX_BYTES);
    for (const registrar of this.context.registrars) {
      const credentials = { ...(message.sip ? { sip: message.sip } : {}), ...(message.xmpp ? { xmpp: message.xmpp } : {}) };
      registrar.loggedIn(identity, this.id, credentials, (frame) => this.send(frame));
    }
    // Only now: registrars hear of the new session before the old one's logout, which they then
    // ignore, so the user's SIP registration and XMPP presence do not blink.
    if (replaced && replaced.sessionId !== this.id) {
      sessions.get(replaced.sessionId)?.close(CloseCode.replaced, 'logged in elsewhere');
    }
  }

  /** `resume` instead of `login`: this connection's socket goes to the session the token names. */
  #resume(message: Message<'resume'>): void {
    if (this.user) throw new GatewayError('already-logged-in', `already logged in as ${this.user}`);
    if (message.protocol !== PROTOCOL_VERSION) {
      throw new GatewayError('unsupported-protocol', `this gateway speaks protocol ${PROTOCOL_VERSION}`);
    }
    const session = this.context.resumeTokens.take(message.token);
    const missed = session ? session.#missedFrames(message.received) : undefined;
    if (!session || !missed) {
      // A lost frame cannot be made up for: the spent token's session ends rather than go on wrong.
      if (session) session.#expire('the client missed frames that are no longer kept');
      this.context.metrics.sessionResumes.inc({ outcome: 'refused' });
      // Guessing tokens is hopeless (256 bits), and a connection that keeps trying is closed like any abuser.
      this.#violation();
      throw new GatewayError('resume-failed', session ? 'frames this session missed are gone; log in again' : 'unknown, used or expired resume token; log in again');
    }
    session.#adopt(this.#release(), message, missed);
  }

  async #authenticate(message: Message<'login'>): Promise<WebIdentity> {
    const { secret, anonymous, guestPrefix } = this.context.auth;
    // With both kinds of login, guests live under their own prefix: no guest name is a token user's.
    const prefix = secret && anonymous ? guestPrefix : '';
    if (message.token !== undefined) {
      if (!secret) throw new GatewayError('auth-failed', 'token login is not configured on this gateway');
      let verified;
      try {
        verified = await verifyAccessToken(message.token, secret);
      } catch (error) {
        if (error instanceof AccessTokenError) throw new GatewayError('auth-failed', `token ${error.code}`);
        throw error;
      }
      if (prefix && verified.user.startsWith(prefix)) {
        throw new GatewayError('auth-failed', `token subjects starting with "${prefix}" are reserved for guests`);
      }
      return { kind: 'user', user: verified.user, groups: verified.groups };
    }
    if (message.name === undefined) throw new GatewayError('bad-message', 'login: give a "token" or a "name"');
    if (!anonymous) throw new GatewayError('anonymous-disabled', 'this gateway requires a token');
    const user = `${prefix}${message.name}`;
    if (!USER_NAME_PATTERN.test(message.name) || !USER_NAME_PATTERN.test(user)) {
      throw new GatewayError('bad-message', `login: "name" must be 1-${64 - prefix.length} of A-Z a-z 0-9 . _ - starting with a letter or digit`);
    }
    return { kind: 'guest', user };
  }

  async #subscribePresence(message: Message<'presence-subscribe'>): Promise<void> {
    this.presenceSubscribed = true;
    const entries = await this.context.directory.list();
    this.#ack(message);
    this.send({ type: 'presence', full: true, users: entries.map((entry) => ({ user: entry.user, status: 'online' as const })) });
  }

  async #call(message: Message<'call'>): Promise<void> {
    const { calls, config } = this.context;
    if (this.#legs.has(message.callId) || calls.has(message.callId)) {
      throw new GatewayError('duplicate-call-id', `call id ${message.callId} is in use`);
    }
    if (this.#legs.size >= config.maxCallsPerConnection) {
      throw new GatewayError('too-many-calls', `at most ${config.maxCallsPerConnection} calls per connection`);
    }
    const target = parseTarget(message.to);
    const self = webAddress(this.user!);
    if (target.uri === self.uri) throw new GatewayError('bad-address', 'you cannot call yourself');
    // Taken here, given back when the caller leg is forgotten (forgetLeg), however the call ends.
    if (!this.context.takeCall(this)) {
      throw new GatewayError('too-many-calls', `at most ${config.maxCallsPerSource} calls at once from one address`);
    }
    const leg = new WebLeg(message.callId, self, 'caller', this, this.#identity!);
    this.#legs.set(message.callId, leg);
    try {
      await calls.place({
        id: message.callId,
        caller: leg,
        target,
        sdp: message.sdp,
        ...(message.transferId ? { transferId: message.transferId } : {}),
      });
    } catch (error) {
      if (error instanceof CallFailedError && !isRoutingFailure(error)) {
        // The destination exists but refused (busy...): an ordinary call outcome, not a bad request.
        this.#ack(message);
        leg.end(error.reason, error.message);
        return;
      }
      this.forgetLeg(message.callId);
      if (error instanceof CallFailedError) throw new GatewayError(error.reason as ErrorCode, error.message);
      throw error;
    }
    this.#ack(message);
  }

  /** A chat message: acked once handed on; a bounce that comes later is a `message-error` frame. */
  async #chat(message: Message<'message'>): Promise<void> {
    const to = parseTarget(message.to);
    await this.context.chat.deliver({
      id: randomUUID(),
      from: webAddress(this.user!),
      sender: this.#identity!,
      to,
      body: message.body,
      undeliverable: (code, text) => {
        if (this.#closed) return;
        this.send({ type: 'message-error', ...(message.id ? { id: message.id } : {}), to: to.uri, code, message: text });
      },
    });
    this.#ack(message);
  }

  #leg(callId: string): WebLeg {
    const leg = this.#legs.get(callId);
    if (leg) return leg;
    if (this.context.calls.has(callId)) throw new GatewayError('not-your-call', `call ${callId} is not yours`);
    throw new GatewayError('unknown-call', `no call ${callId}`);
  }

  /** A call of this session that ended a moment ago: frames racing its end are acked and ignored. */
  #endedJustNow(callId: string): boolean {
    return !this.#legs.has(callId) && this.#recentlyEnded.has(callId);
  }

  #callee(callId: string, action: string): WebLeg {
    const leg = this.#leg(callId);
    if (leg.role !== 'callee') throw new GatewayError('invalid-state', `only the called party can ${action}`);
    return leg;
  }

  #answeredLeg(callId: string): WebLeg {
    const leg = this.#leg(callId);
    if (!leg.answered) throw new GatewayError('invalid-state', 'the call is not answered yet');
    return leg;
  }

  #ack(message: ClientMessage): void {
    if (message.id) this.send({ type: 'ack', id: message.id });
  }

  sendError(code: ErrorCode, text: string, id?: string, callId?: string): void {
    this.context.metrics.signalingErrors.inc({ code });
    this.send({ type: 'error', code, message: text, ...(id ? { id } : {}), ...(callId ? { callId } : {}) });
  }

  #violation(): void {
    this.#violations += 1;
    if (this.#violations > this.context.config.rateLimit.maxViolations) {
      this.#logger.warn({ user: this.user }, 'closing abusive connection');
      this.close(CloseCode.policy, 'too many invalid or excess frames');
    }
  }

  #onClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#loginTimer);
    clearTimeout(this.#resumeTimer);
    this.context.resumeTokens.revoke(this);
    for (const leg of [...this.#legs.values()]) leg.connectionLost();
    this.#legs.clear();
    const { sessions, directory } = this.context;
    sessions.delete(this.id);
    this.context.onSessionClosed(this);
    if (this.user) {
      for (const registrar of this.context.registrars) registrar.loggedOut(this.user, this.id);
      directory.unregister(this.user, this.id).catch((error: unknown) => {
        this.#logger.error({ err: error }, 'directory unregister failed');
      });
      this.#logger.info({ user: this.user }, 'logged out');
    }
  }
}

/** An address from a frame; unparsable ones are `bad-address` request errors. */
function parseTarget(text: string): Address {
  try {
    return parseAddress(text);
  } catch (error) {
    if (error instanceof AddressError) throw new GatewayError('bad-address', error.message);
    throw error;
  }
}

/** Failures that mean "no such party" are request errors; the rest end the call with a reason. */
function isRoutingFailure(error: CallFailedError): boolean {
  return error.reason === 'not-found' || error.reason === 'offline' || error.reason === 'forbidden';
}
