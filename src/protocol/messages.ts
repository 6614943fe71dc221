/**
 * The browser signaling protocol: JSON frames over the WebSocket at `/ws`.
 *
 * This file is the single source of the protocol's types. The gateway
 * (src/signaling) and the browser SDK (src/client) both import it, so it holds
 * types and constants only: no runtime dependency may enter here, or it would
 * end up in the SDK bundle. docs/protocol.md describes the same frames for
 * people; the validation in parse-client-message.ts is checked against these
 * types at compile time.
 */

/** Bumped on any incompatible change; the client states it in `login`. */
export const PROTOCOL_VERSION = 1;

/** WebSocket close codes the gateway uses besides the standard ones (1008, 1009, 1011). */
export const CloseCode = {
  /** Policy violation: rate limit abused, or too many bad frames. */
  policy: 1008,
  /** Frame larger than `signaling.maxFrameBytes` (set by ws itself). */
  tooLarge: 1009,
  /** The gateway is shutting down. */
  goingAway: 1001,
  /** No login within `signaling.loginTimeoutMs`. */
  loginTimeout: 4000,
  /** The same user logged in on another connection. */
  replaced: 4001,
} as const;

/** ICE candidate as the browser's RTCIceCandidate.toJSON() gives it. */
export interface IceCandidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** One entry of RTCConfiguration.iceServers. */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** Why a call ended, as the browser sees it. */
export type EndReason =
  | 'hangup' // the other party (or this one) hung up after answer
  | 'cancelled' // the caller gave up before answer
  | 'busy'
  | 'declined'
  | 'not-found' // no such user or destination
  | 'offline' // the user exists but is not connected
  | 'no-answer' // ring timeout
  | 'forbidden' // dial policy refused the destination
  | 'incompatible-media' // no common codec or transport
  | 'media-failed' // a party could not use the media description it got (its browser refused the SDP)
  | 'unreachable' // the other network could not be reached
  | 'overloaded' // the gateway has no room for the call right now (its media ports are all taken); try again later
  | 'connection-lost' // a party's signaling connection dropped (and was not resumed within signaling.resumeWindowMs)
  | 'media-timeout' // a party's media is gone: no RTP/RTCP for media.inactivityTimeoutMs, or its WebRTC connection failed or closed
  | 'shutdown' // the gateway is going down
  | 'node-lost' // the cluster node that carried the other party (or the call) stopped answering
  | 'failed'; // anything else; see the log for the call id

/** Why a call ended in the SDK: the gateway's reasons and `resume-failed` (the connection dropped and the session could not be taken back). */
export type ClientEndReason = EndReason | 'resume-failed';

/**
 * Codes of `error` frames. Each names one precise problem. `not-found`,
 * `offline` and `forbidden` refuse a `call` whose destination cannot be
 * reached at all; they match the end reasons of the same name.
 */
export type ErrorCode =
  | 'bad-json' // the frame was not valid JSON
  | 'bad-message' // JSON, but a field is missing or has the wrong type
  | 'unknown-type' // `type` is not a message this protocol knows
  | 'unsupported-protocol' // `login.protocol` is not PROTOCOL_VERSION
  | 'rate-limited' // too many frames; this one was dropped
  | 'not-logged-in' // only `login` and `ping` are allowed before login
  | 'already-logged-in'
  | 'auth-failed' // token missing, expired or badly signed
  | 'anonymous-disabled' // a name without a token, but the config forbids it
  | 'name-taken' // a guest picked a name someone is logged in with (guests never replace a session)
  | 'bad-address' // `to` is not a valid address
  | 'not-found' // no such user or destination
  | 'offline' // the user exists but is not connected
  | 'forbidden' // the dial policy does not allow this destination
  | 'unknown-call' // no call with this id on this connection
  | 'not-your-call' // the call exists but this connection is not a party to it
  | 'invalid-state' // e.g. accept on a call that is already answered
  | 'duplicate-call-id'
  | 'too-many-calls' // per-connection concurrent call limit
  | 'shutting-down' // the gateway accepts no new calls
  | 'undeliverable' // a chat message could not be delivered (the remote side bounced it)
  | 'unavailable' // the cluster directory (Redis) cannot be reached right now; try again
  | 'resume-failed' // `resume`: the token is unknown, used, expired or from another node, or frames the client missed are gone; log in again
  | 'internal';

/** Presence state of a user. */
export type PresenceStatus = 'online' | 'offline';

// ---------------------------------------------------------------- client -> gateway

/** Every request may carry an `id`; replies (`ack`, `error`, `welcome`) echo it. */
interface Request {
  id?: string;
}

export interface LoginMessage extends Request {
  type: 'login';
  protocol: number;
  /** Signed access token (HS256 JWT whose `sub` is the user name). */
  token?: string;
  /** Anonymous name, honoured only when `auth.anonymous` is on. */
  name?: string;
  /** Register this user to a SIP registrar through the gateway (like Janus's SIP plugin). */
  sip?: SipCredentials;
  /** Log in to an XMPP server as this user (per-user XMPP mode): roster contacts can call and chat with the web user. */
  xmpp?: XmppCredentials;
}

/** An XMPP account the gateway logs in to on a web user's behalf while the user is online. */
export interface XmppCredentials {
  /** Bare JID, e.g. `dave@example.org`. */
  jid: string;
  password: string;
}

/** What a login may carry for the gateway's registrars (SIP registration, XMPP login). */
export interface LoginCredentials {
  sip?: SipCredentials;
  xmpp?: XmppCredentials;
}

/** A SIP account the gateway registers on a web user's behalf (RFC 3261 section 10, digest per RFC 8760). */
export interface SipCredentials {
  /** Address of record, e.g. `sip:alice@pbx.example.com`. */
  aor: string;
  password: string;
  /** Digest user name when it is not the AOR's user part. */
  username?: string;
  /** Registrar URI; default: the AOR's domain. */
  registrar?: string;
}

export interface PingMessage extends Request {
  type: 'ping';
}

export interface PresenceSubscribeMessage extends Request {
  type: 'presence-subscribe';
}

export interface CallMessage extends Request {
  type: 'call';
  /** Chosen by the client so it can trickle candidates at once; unique per gateway. */
  callId: string;
  /** `web:bob`, `sip:+15551234@pbx.example.com`, `xmpp:carol@example.org`, `service:echo`. */
  to: string;
  sdp: string;
  /** Set when this call follows a `transfer` frame: the gateway reports its outcome to the transferor. */
  transferId?: string;
}

export interface RingingMessage extends Request {
  type: 'ringing';
  callId: string;
}

export interface AcceptMessage extends Request {
  type: 'accept';
  callId: string;
  sdp: string;
}

/** Why a called browser refuses a call. */
export type RejectReason = 'busy' | 'declined' | 'incompatible-media';

export interface RejectMessage extends Request {
  type: 'reject';
  callId: string;
  reason?: RejectReason;
}

/** Why a browser ends a call that failed on its side (a plain hangup has no reason). */
export type HangupFailureReason = 'incompatible-media' | 'media-failed' | 'failed';

export interface HangupMessage extends Request {
  type: 'hangup';
  callId: string;
  /** The call failed here: the other party is told this failure, never a hangup. */
  reason?: HangupFailureReason;
  /** What failed (the browser's error text), for the other party's `ended` detail and the log. */
  detail?: string;
}

export interface CandidateMessage extends Request {
  type: 'candidate';
  callId: string;
  /** null marks the end of candidates. */
  candidate: IceCandidate | null;
}

/** Mid-call re-offer (renegotiation, hold); the other side replies with `answer`. */
export interface OfferMessage extends Request {
  type: 'offer';
  callId: string;
  sdp: string;
}

export interface AnswerMessage extends Request {
  type: 'answer';
  callId: string;
  sdp: string;
}

/** Blind transfer: asks the other party to call `to` instead (SIP: REFER, RFC 3515). */
export interface TransferMessage extends Request {
  type: 'transfer';
  callId: string;
  to: string;
}

export interface DtmfMessage extends Request {
  type: 'dtmf';
  callId: string;
  /** 0-9, *, #, A-D. */
  digits: string;
}

/** A one-to-one chat message to any address that can take one (`web:`, `xmpp:`, `sip:`, `tel:`). */
export interface ChatMessage extends Request {
  type: 'message';
  to: string;
  /** Plain text, at most 4096 characters. */
  body: string;
}

/**
 * Takes a logged-in session back over a new WebSocket after the old one dropped (instead of
 * `login`), within `signaling.resumeWindowMs`. Answered with `resumed`, then every frame numbered
 * after `received` again, in order; or with `error` `resume-failed`.
 */
export interface ResumeMessage extends Request {
  type: 'resume';
  protocol: number;
  /** The last `resume.token` the session got (`welcome` or `resumed`): single use. */
  token: string;
  /** Frames received since `welcome`, not counting `welcome` and `resumed` frames. */
  received: number;
}

export type ClientMessage =
  | LoginMessage
  | ResumeMessage
  | ChatMessage
  | PingMessage
  | PresenceSubscribeMessage
  | CallMessage
  | RingingMessage
  | AcceptMessage
  | RejectMessage
  | HangupMessage
  | CandidateMessage
  | OfferMessage
  | AnswerMessage
  | DtmfMessage
  | TransferMessage;

export type ClientMessageType = ClientMessage['type'];

// ---------------------------------------------------------------- gateway -> client

export interface WelcomeMessage {
  type: 'welcome';
  id?: string;
  protocol: number;
  user: string;
  /** The user's own address, e.g. `web:alice`. */
  address: string;
  sessionId: string;
  iceServers: IceServer[];
  /** Logged in without a token: the gateway's policies treat the user as a guest (no trunk calls unless allowed). */
  guest?: boolean;
  /** How to take this session back after the connection drops (absent when `signaling.resumeWindowMs` is 0). */
  resume?: ResumeGrant;
}

/** A session's right to be resumed: an opaque single-use token, valid while the session is held. */
export interface ResumeGrant {
  token: string;
  /** How long the gateway holds the session after its connection drops. */
  windowMs: number;
}

/** The answer to `resume`: the session is back; the frames the client missed follow. */
export interface ResumedMessage {
  type: 'resumed';
  id?: string;
  user: string;
  sessionId: string;
  /** The next token (the one just used is spent). */
  resume: ResumeGrant;
  /** How many frames follow again (those numbered after the client's `received`). */
  replayed: number;
}

export interface AckMessage {
  type: 'ack';
  id: string;
}

export interface PongMessage {
  type: 'pong';
  id?: string;
}

export interface ErrorMessage {
  type: 'error';
  code: ErrorCode;
  message: string;
  /** The id of the request that caused it, when it had one. */
  id?: string;
  callId?: string;
}

export interface PresenceMessage {
  type: 'presence';
  /** true: `users` is the full list (sent right after `presence-subscribe`); otherwise changes. */
  full: boolean;
  users: { user: string; status: PresenceStatus }[];
}

/**
 * How a call's media flows: `relay` browser to browser (ICE end to end, perhaps
 * through TURN), `anchor` through the gateway's own media endpoint.
 */
export type MediaPath = 'relay' | 'anchor';

export interface IncomingMessage {
  type: 'incoming';
  callId: string;
  from: string;
  /** Display name of the caller when the other network gave one. */
  fromName?: string;
  to: string;
  sdp: string;
  /** How media will flow (added in protocol 1; older gateways leave it out). */
  media?: MediaPath;
}

export interface CallRingingMessage {
  type: 'ringing';
  callId: string;
}

/**
 * Early media: the called party's answer SDP before it answers (SIP 183 with
 * SDP: ringback, announcements). Apply it; `answered` follows, or `ended`.
 */
export interface ProgressMessage {
  type: 'progress';
  callId: string;
  sdp: string;
}

export interface AnsweredMessage {
  type: 'answered';
  callId: string;
  sdp: string;
  /** How media flows (added in protocol 1; older gateways leave it out). */
  media?: MediaPath;
}

export interface EndedMessage {
  type: 'ended';
  callId: string;
  reason: EndReason;
  /** Protocol detail, e.g. `SIP 486 Busy Here`. */
  detail?: string;
}

export interface RemoteCandidateMessage {
  type: 'candidate';
  callId: string;
  candidate: IceCandidate | null;
}

export interface RemoteOfferMessage {
  type: 'offer';
  callId: string;
  sdp: string;
}

export interface RemoteAnswerMessage {
  type: 'answer';
  callId: string;
  sdp: string;
}

/**
 * The other party asks this user to call `to` instead (it was transferred,
 * e.g. by a SIP REFER). Place that call with `transferId`, then hang up.
 */
export interface RemoteTransferMessage {
  type: 'transfer';
  callId: string;
  to: string;
  transferId: string;
}

/** State of the SIP registration the gateway holds for this user. */
export interface RegistrationMessage {
  type: 'registration';
  aor: string;
  state: 'registering' | 'registered' | 'failed' | 'unregistered';
  /** SIP status of a failure: 401/407 wrong credentials, 403 forbidden, 423 interval too brief... */
  code?: number;
  reason?: string;
}

export interface RemoteDtmfMessage {
  type: 'dtmf';
  callId: string;
  digits: string;
}

/** A chat message for this user. */
export interface IncomingChatMessage {
  type: 'message';
  from: string;
  body: string;
  /** The gateway's id for this message. */
  messageId: string;
}

/**
 * A chat message this user sent (and that was acked) could not be delivered after all: the
 * remote side bounced it (an XMPP error stanza, a SIP final answer other than 2xx). `id` is
 * the request id of the `message` frame.
 */
export interface ChatMessageErrorMessage {
  type: 'message-error';
  id?: string;
  to: string;
  code: ErrorCode;
  message: string;
}

export type ServerMessage =
  | WelcomeMessage
  | ResumedMessage
  | IncomingChatMessage
  | ChatMessageErrorMessage
  | AckMessage
  | PongMessage
  | ErrorMessage
  | PresenceMessage
  | IncomingMessage
  | CallRingingMessage
  | ProgressMessage
  | AnsweredMessage
  | EndedMessage
  | RemoteCandidateMessage
  | RemoteOfferMessage
  | RemoteAnswerMessage
  | RemoteDtmfMessage
  | RemoteTransferMessage
  | RegistrationMessage;

export type ServerMessageType = ServerMessage['type'];
