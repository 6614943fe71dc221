/**
 * The browser SDK: one WebSocket to the gateway (`/ws`), login, presence and
 * calls. Browser-only, no runtime dependencies. docs/protocol.md describes
 * the frames it exchanges.
 */

import {
  PROTOCOL_VERSION,
  type IceServer,
  type LoginMessage,
  type PresenceStatus,
  type ResumedMessage,
  type ResumeGrant,
  type ServerMessage,
  type WelcomeMessage,
} from '../protocol/messages.js';
import { Call } from './call.js';
import { newCallId } from './call-id.js';
import type { CallMessage, CallSignaling, OutgoingFrame } from './call-signaling.js';
import type { ClientEvents, PresenceEntry } from './client-events.js';
import type { CallOptions, LoginOptions, SwitchboardClientOptions } from './client-options.js';
import { PendingRequests } from './pending-requests.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from './protocol-versions.js';
import { ReconnectPolicy } from './reconnect-policy.js';
import { SwitchboardError } from './switchboard-error.js';
import { TypedEmitter } from './typed-events.js';
import { getUserMediaStream } from './user-media.js';

function defaultUrl(): string {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const CALL_FRAMES = new Set(['ringing', 'progress', 'answered', 'ended', 'candidate', 'offer', 'answer', 'dtmf', 'transfer']);

/**
 * Closes after which the session may be resumed: the connection died without a close frame
 * (1005, 1006: a network change, a cut TCP connection, a missed ping), or a proxy on the way gave
 * up (1011-1014). Any other close was meant: resuming would only be refused.
 */
const RESUMABLE_CLOSE_CODES = new Set([1005, 1006, 1011, 1012, 1013, 1014]);

export class SwitchboardClient extends TypedEmitter<ClientEvents> {
  readonly url: string;
  /** The user name after login. */
  user: string | undefined;
  /** The user's own address after login, e.g. `web:alice`. */
  address: string | undefined;
  sessionId: string | undefined;
  /** ICE servers from `welcome` (STUN, TURN with short-lived credentials). */
  iceServers: IceServer[] = [];
  /** Live calls by id; a call leaves the map when it ends. */
  readonly calls = new Map<string, Call>();
  /** Presence of other users, after `subscribePresence()`. */
  readonly presence = new Map<string, PresenceStatus>();

  private readonly rtcConfig: Partial<RTCConfiguration>;
  private ws: WebSocket | undefined;
  private opening: Promise<void> | undefined;
  private readonly pending: PendingRequests;
  private nextRequestId = 1;
  private presenceSnapshotPending = false;
  private readonly signaling: CallSignaling;
  private readonly reconnectPolicy: ReconnectPolicy | undefined;
  /** What to log in with again after a reconnect (the last successful login). */
  private lastLogin: LoginOptions | undefined;
  private closedByClient = false;
  private presenceWanted = false;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The right to take the session back (from `welcome`/`resumed`), and frames counted since `welcome`. */
  private resumeGrant: ResumeGrant | undefined;
  private framesReceived = 0;
  /** Set while the session is being resumed: until when the gateway holds it. */
  private resumeDeadline: number | undefined;
  private readonly resumePolicy: ReconnectPolicy;
  /** Calls hung up here while the connection was away: the gateway is told after the resume. */
  private readonly endedWhileAway = new Set<string>();

  constructor(options: SwitchboardClientOptions = {}) {
    super();
    this.url = options.url ?? defaultUrl();
    this.rtcConfig = options.rtcConfig ?? {};
    this.pending = new PendingRequests(options.requestTimeoutMs ?? 15_000);
    if (options.reconnect) this.reconnectPolicy = new ReconnectPolicy(options.reconnect === true ? {} : options.reconnect);
    this.resumePolicy = new ReconnectPolicy({ initialDelayMs: 500, maxDelayMs: 4000, ...(isObject(options.reconnect) ? options.reconnect : {}) });
    this.signaling = {
      request: (frame) => this.request(frame),
      release: (call) => {
        if (this.calls.get(call.id) === call) this.calls.delete(call.id);
        if (this.resuming) this.endedWhileAway.add(call.id);
      },
      report: (error) => this.emit('error', error),
    };
    // A new network (Wi-Fi to mobile data, a VPN): the calls' ICE pairs may be dead before ICE notices.
    (globalThis as { addEventListener?: (type: string, listener: () => void) => void }).addEventListener?.('online', () => {
      for (const call of this.calls.values()) if (call.state === 'active') call.networkChanged(false);
    });
  }

  /** True while the WebSocket is open. */
  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** True after a successful `login` on the current connection. */
  get loggedIn(): boolean {
    return this.connected && this.user !== undefined;
  }

  /** True while the connection is lost and the session is being resumed (calls kept). */
  get resuming(): boolean {
    return this.resumeDeadline !== undefined;
  }

  /** Opens the WebSocket; resolves when it is open (at once if it already is). */
  connect(): Promise<void> {
    if (this.connected) return Promise.resolve();
    if (this.opening) return this.opening;
    this.opening = new Promise<void>((resolve, reject) => {
      let ws: WebSocket;
      try {
        ws = new WebSocket(this.url);
      } catch (err) {
        reject(new SwitchboardError('not-connected', `bad WebSocket URL ${this.url}`, { cause: err }));
        return;
      }
      this.ws = ws;
      let opened = false;
      ws.addEventListener('open', () => {
        if (this.ws !== ws) return;
        opened = true;
        resolve();
        this.emit('connected');
      });
      ws.addEventListener('message', (event) => {
        if (this.ws === ws) this.onFrame(event.data);
      });
      ws.addEventListener('close', (event) => {
        if (!opened) {
          reject(new SwitchboardError('connection-closed', `could not connect to ${this.url} (close code ${event.code})`));
        }
        if (this.ws === ws) this.onClose(event.code, event.reason, opened);
      });
    }).finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  /** Logs in (connecting first if needed); resolves with the `welcome` frame. */
  async login(options: LoginOptions = {}): Promise<WelcomeMessage> {
    await this.connect();
    const frame: Omit<LoginMessage, 'id'> = { type: 'login', protocol: PROTOCOL_VERSION };
    if (options.token) frame.token = options.token;
    if (options.name) frame.name = options.name;
    if (options.sip) frame.sip = options.sip;
    if (options.xmpp) frame.xmpp = options.xmpp;
    const reply = await this.request(frame);
    if (reply.type !== 'welcome') {
      throw new SwitchboardError('bad-message', `expected welcome, got ${reply.type}`);
    }
    if (!SUPPORTED_PROTOCOL_VERSIONS.includes(reply.protocol)) {
      this.close();
      throw new SwitchboardError('unsupported-protocol', `the gateway speaks protocol ${reply.protocol}; this SDK speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`);
    }
    this.user = reply.user;
    this.address = reply.address;
    this.sessionId = reply.sessionId;
    this.iceServers = Array.isArray(reply.iceServers) ? reply.iceServers : [];
    this.lastLogin = options;
    this.closedByClient = false;
    return reply;
  }

  /** Hangs up every call and closes the WebSocket. */
  close(): void {
    this.closedByClient = true;
    clearTimeout(this.reconnectTimer);
    this.resumeDeadline = undefined;
    this.resumeGrant = undefined;
    for (const call of [...this.calls.values()]) call.hangup();
    const ws = this.ws;
    if (!ws) return;
    const wasOpen = ws.readyState === WebSocket.OPEN;
    if (wasOpen || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'client closed');
    // Clean up now rather than when the close handshake completes.
    this.onClose(1000, 'client closed', wasOpen);
  }

  /** Subscribes to presence: a `presence` event with the full list, then one per change. */
  async subscribePresence(): Promise<void> {
    this.presenceSnapshotPending = true;
    this.presenceWanted = true;
    await this.request({ type: 'presence-subscribe' });
  }

  /**
   * Sends a chat message to `to` (`web:bob`, `xmpp:carol@example.org`). Resolves with the
   * request id once the gateway handed it on; a later bounce is a `messageerror` event with it.
   */
  async sendMessage(to: string, body: string): Promise<string> {
    const id = `r${this.nextRequestId}`;
    await this.request({ type: 'message', to, body });
    return id;
  }

  /** Measures the round trip of a `ping`, in milliseconds. */
  async ping(): Promise<number> {
    const start = performance.now();
    await this.request({ type: 'ping' });
    return performance.now() - start;
  }

  /**
   * Calls `to` (`web:bob`, `sip:...`, `xmpp:...`, `service:echo`). Resolves with
   * the call once the gateway acked it; rejects with a SwitchboardError.
   * Listeners attached to the `call` client event see every event of the call.
   */
  async call(to: string, options: CallOptions = {}): Promise<Call> {
    if (typeof to !== 'string' || to.trim() === '') throw new TypeError('call(): `to` must be a non-empty address');
    if (!this.loggedIn) throw new SwitchboardError('not-logged-in', 'log in before calling');
    const stream = options.stream ?? (await getUserMediaStream(options.audio ?? true, options.video ?? false));
    const owned = !options.stream;
    let call: Call;
    try {
      if (!this.loggedIn) throw new SwitchboardError('not-logged-in', 'the connection closed before the call started');
      call = new Call({
        id: newCallId(),
        direction: 'outgoing',
        remote: to.trim(),
        rtcConfig: this.rtcConfigFor(options.rtcConfig),
        signaling: this.signaling,
      });
    } catch (err) {
      if (owned) stream.getTracks().forEach((track) => track.stop());
      if (err instanceof SwitchboardError) throw err;
      throw new SwitchboardError('media-failed', `could not create the peer connection: ${String(err)}`, { cause: err });
    }
    call.attachLocalStream(stream, owned);
    this.calls.set(call.id, call);
    this.emit('call', call);
    await call.start(call.remote, options.transferId);
    return call;
  }

  // ------------------------------------------------------------------ internals

  private rtcConfigFor(extra?: Partial<RTCConfiguration>): RTCConfiguration {
    return {
      iceServers: this.iceServers.map((server) => ({ ...server, urls: [...server.urls] })),
      bundlePolicy: 'max-bundle',
      ...this.rtcConfig,
      ...extra,
    };
  }

  /** Sends a frame with a fresh id; resolves with the reply (`ack`, `welcome`, `pong`). */
  private request(frame: OutgoingFrame): Promise<ServerMessage> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new SwitchboardError('not-connected', 'not connected to the gateway'));
    }
    const id = `r${this.nextRequestId++}`;
    return this.pending.wait(id, frame.type, () => ws.send(JSON.stringify({ ...frame, id })));
  }

  /** Handles one WebSocket frame. Never throws: bad or unknown frames are ignored. */
  private onFrame(data: unknown): void {
    try {
      if (typeof data !== 'string') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        return;
      }
      if (!isObject(parsed) || typeof parsed.type !== 'string') return;
      // The gateway numbers every frame after `welcome` but `resumed`: a resume says how many came.
      if (this.resumeGrant && parsed.type !== 'welcome' && parsed.type !== 'resumed') this.framesReceived += 1;
      this.dispatch(parsed as unknown as ServerMessage);
    } catch (err) {
      console.error('switchboard: failed to handle a frame', err);
    }
  }

  private dispatch(msg: ServerMessage): void {
    switch (msg.type) {
      case 'welcome':
        this.resumeGrant = isObject(msg.resume) && typeof msg.resume.token === 'string' ? msg.resume : undefined;
        this.framesReceived = 0;
        this.pending.resolve(msg.id, msg);
        return;
      case 'resumed':
        this.resumeGrant = msg.resume;
        this.pending.resolve(msg.id, msg);
        return;
      case 'ack':
      case 'pong':
        this.pending.resolve(msg.id, msg);
        return;
      case 'error':
        this.onError(msg);
        return;
      case 'presence':
        this.onPresence(msg.users, msg.full);
        return;
      case 'incoming':
        void this.onIncoming(msg);
        return;
      case 'registration':
        this.emit('registration', msg);
        return;
      case 'message':
        this.emit('message', { from: msg.from, body: msg.body, messageId: msg.messageId });
        return;
      case 'message-error':
        this.emit('messageerror', { id: msg.id, to: msg.to, code: msg.code, message: msg.message });
        return;
      default:
        if (CALL_FRAMES.has(msg.type) && typeof msg.callId === 'string') {
          // Frames for calls we do not know (already ended, never ours) are ignored.
          this.calls.get(msg.callId)?.handleMessage(msg as CallMessage);
        }
    }
  }

  private onError(msg: Extract<ServerMessage, { type: 'error' }>): void {
    const code = typeof msg.code === 'string' ? msg.code : 'internal';
    const message = typeof msg.message === 'string' ? msg.message : code;
    const callId = typeof msg.callId === 'string' ? msg.callId : undefined;
    const error = new SwitchboardError(code, message, callId === undefined ? {} : { callId });
    if (this.pending.reject(msg.id, error)) return;
    if (callId !== undefined) {
      const call = this.calls.get(callId);
      if (!call) return; // about a call that already ended here
      call.handleMessage({ ...msg, code, message, callId });
    }
    this.emit('error', error);
  }

  private onPresence(users: unknown, full: unknown): void {
    if (!Array.isArray(users)) return;
    const snapshot = full === true || this.presenceSnapshotPending;
    this.presenceSnapshotPending = false;
    if (snapshot) this.presence.clear();
    const entries: PresenceEntry[] = [];
    for (const entry of users) {
      if (!isObject(entry) || typeof entry.user !== 'string' || typeof entry.status !== 'string') continue;
      const status = entry.status as PresenceStatus;
      this.presence.set(entry.user, status);
      entries.push({ user: entry.user, status });
    }
    this.emit('presence', entries, snapshot);
  }

  private async onIncoming(msg: Extract<ServerMessage, { type: 'incoming' }>): Promise<void> {
    try {
      if (typeof msg.callId !== 'string' || typeof msg.from !== 'string' || typeof msg.sdp !== 'string') return;
      if (this.calls.has(msg.callId)) return;
      const call = new Call({
        id: msg.callId,
        direction: 'incoming',
        remote: msg.from,
        ...(typeof msg.fromName === 'string' ? { remoteName: msg.fromName } : {}),
        ...(typeof msg.to === 'string' ? { local: msg.to } : {}),
        ...(msg.media === 'relay' || msg.media === 'anchor' ? { mediaPath: msg.media } : {}),
        // Offers without a BUNDLE group (Dino over XMPP: one transport per content) cannot be answered under max-bundle.
        rtcConfig: this.rtcConfigFor(/^a=group:BUNDLE /m.test(msg.sdp) ? undefined : { bundlePolicy: 'balanced' }),
        signaling: this.signaling,
      });
      this.calls.set(call.id, call);
      if (!(await call.applyInitialOffer(msg.sdp))) return;
      call.sendRinging();
      this.emit('call', call);
      if (call.live) this.emit('incoming', call);
    } catch (err) {
      this.emit('error', new SwitchboardError('media-failed', `could not take an incoming call: ${String(err)}`));
    }
  }

  private onClose(code: number, reason: string, wasOpen: boolean): void {
    this.ws = undefined;
    if (this.resuming) {
      // An attempt's socket closed: the attempt itself schedules the next one.
      this.pending.rejectAll(() => new SwitchboardError('connection-closed', `the connection closed (code ${code})`));
      return;
    }
    if (this.resumeGrant && this.user !== undefined && !this.closedByClient && RESUMABLE_CLOSE_CODES.has(code)) {
      this.startResuming(code, reason);
      return;
    }
    this.resumeGrant = undefined;
    const wasLoggedIn = this.user !== undefined;
    this.user = undefined;
    this.address = undefined;
    this.sessionId = undefined;
    this.presence.clear();
    this.presenceSnapshotPending = false;
    this.pending.rejectAll(() => new SwitchboardError('connection-closed', `the connection closed (code ${code})`));
    for (const call of [...this.calls.values()]) call.terminate('connection-lost', `WebSocket closed with ${code}`);
    if (wasOpen || wasLoggedIn) this.emit('disconnected', { code, reason });
    if (wasLoggedIn) this.scheduleReconnect(code);
  }

  /**
   * The connection dropped but the gateway holds the session for `resume.windowMs`: calls stay
   * (their media does not need the WebSocket), and the SDK connects again with backoff and sends
   * `resume` until it works, the window is over or the gateway refuses.
   */
  private startResuming(code: number, reason: string): void {
    this.resumeDeadline = Date.now() + this.resumeGrant!.windowMs;
    this.resumePolicy.reset();
    this.pending.rejectAll(() => new SwitchboardError('connection-closed', `the connection closed (code ${code})`));
    this.emit('disconnected', { code, reason, resuming: true });
    this.scheduleResume();
  }

  private scheduleResume(): void {
    const delayMs = this.resumePolicy.nextDelay();
    if (delayMs === undefined || Date.now() + delayMs >= this.resumeDeadline!) {
      this.resumeFailed('the session was not resumed within its window');
      return;
    }
    this.emit('reconnecting', { attempt: this.resumePolicy.attempt, delayMs, resuming: true });
    this.reconnectTimer = setTimeout(() => void this.resumeOnce(), delayMs);
  }

  private async resumeOnce(): Promise<void> {
    if (!this.resuming || !this.resumeGrant) return;
    let reply: ServerMessage;
    try {
      await this.connect();
      reply = await this.request({ type: 'resume', protocol: PROTOCOL_VERSION, token: this.resumeGrant.token, received: this.framesReceived });
    } catch (err) {
      if (!this.resuming) return;
      if (err instanceof SwitchboardError && (err.code === 'resume-failed' || err.code === 'unsupported-protocol' || err.code === 'bad-message')) {
        this.resumeFailed(err.message);
      } else {
        this.scheduleResume();
      }
      return;
    }
    if (!this.resuming) return;
    this.resumeDeadline = undefined;
    const resumed = reply as ResumedMessage;
    this.sessionId = resumed.sessionId;
    // Calls hung up while away: the gateway still has them.
    for (const callId of this.endedWhileAway) void this.request({ type: 'hangup', callId }).catch(() => undefined);
    this.endedWhileAway.clear();
    this.emit('reconnected', resumed);
    // A connection lost for a while may mean a new network: calls whose ICE went down restart it.
    for (const call of this.calls.values()) if (call.state === 'active') call.networkChanged(true);
  }

  /** The session is gone: its calls end with `resume-failed`; with `reconnect`, a new login follows. */
  private resumeFailed(detail: string): void {
    this.resumeDeadline = undefined;
    this.resumeGrant = undefined;
    this.endedWhileAway.clear();
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'resume failed');
    for (const call of [...this.calls.values()]) call.terminate('resume-failed', detail);
    this.user = undefined;
    this.address = undefined;
    this.sessionId = undefined;
    this.presence.clear();
    this.emit('error', new SwitchboardError('resume-failed', detail));
    this.scheduleReconnect(1006);
  }

  /** With `reconnect`: the next attempt to connect and log in again, after the policy's delay. */
  private scheduleReconnect(code: number): void {
    const policy = this.reconnectPolicy;
    if (!policy || !this.lastLogin || this.closedByClient || !policy.shouldReconnect(code)) return;
    const delayMs = policy.nextDelay();
    if (delayMs === undefined) {
      this.emit('error', new SwitchboardError('connection-closed', `gave up reconnecting after ${policy.attempt} attempts`));
      return;
    }
    this.emit('reconnecting', { attempt: policy.attempt, delayMs });
    this.reconnectTimer = setTimeout(() => void this.reconnect(code), delayMs);
  }

  private async reconnect(code: number): Promise<void> {
    if (this.closedByClient || !this.lastLogin) return;
    try {
      const welcome = await this.login(this.lastLogin);
      this.reconnectPolicy!.reset();
      if (this.presenceWanted) await this.subscribePresence().catch(() => undefined);
      this.emit('reconnected', welcome);
    } catch (err) {
      if (err instanceof SwitchboardError && !this.reconnectPolicy!.shouldRetryLogin(err.code)) {
        this.emit('error', err);
        return;
      }
      this.scheduleReconnect(code);
    }
  }
}
