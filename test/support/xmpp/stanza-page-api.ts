// What the StanzaJS test page (stanza-page-entry.ts, running in Chromium) offers to Node as
// `window.stanzaPeer`, and what it reports back. Only plain data crosses page.evaluate.

export interface StanzaLogin {
  websocketUrl: string;
  /** Bare JID, e.g. `carol@localhost`. */
  jid: string;
  password: string;
  resource: string;
  /** Accept every incoming session as soon as it arrives (after sending session-info ringing). */
  autoAnswer: boolean;
}

/** StanzaJS's own session states (jingle/Session.ts): starting, pending, active, ended. */
export type StanzaSessionState = 'none' | 'starting' | 'pending' | 'active' | 'ended';

export interface StanzaEndReason {
  /** The Jingle reason condition (XEP-0166 section 7.4), e.g. `success`, `decline`, `busy`. */
  condition: string;
  text?: string;
  /** `remote`: the peer's session-terminate; `local`: this page ended the session. */
  by: 'remote' | 'local';
}

export interface StanzaSnapshot {
  /** The full JID the server bound. */
  jid: string;
  sid?: string;
  /** The other party's full JID. */
  peer?: string;
  role?: 'initiator' | 'responder';
  state: StanzaSessionState;
  /** StanzaJS's ICE view: connecting, connected, interrupted, disconnected, failed. */
  connectionState?: string;
  endReason?: StanzaEndReason;
  /** Sessions this page was offered (session-initiate received), in order. */
  incomingCount: number;
}

export interface StanzaAudioStats {
  /** getStats() inbound-rtp (audio) `packetsReceived`. */
  packetsReceived: number;
  /** getStats() inbound-rtp (audio) `totalAudioEnergy`: zero for silence. */
  totalAudioEnergy: number;
  /** Candidate addresses of the selected ICE pair, to prove media stayed on loopback. */
  selectedPair?: { local: string; remote: string };
}

/** One XML stanza as it crossed the WebSocket, for traces in failure messages and reports. */
export interface StanzaTraceEntry {
  at: number;
  direction: 'in' | 'out';
  xml: string;
}

export interface StanzaPageApi {
  login(options: StanzaLogin): Promise<string>;
  /** Direct session-initiate (no JMI) to a full JID, audio only; resolves with the sid. */
  call(jid: string): Promise<string>;
  answer(): Promise<void>;
  reject(condition: string): void;
  hangup(condition: string): void;
  snapshot(): StanzaSnapshot;
  audioStats(): Promise<StanzaAudioStats>;
  /** disco#info features of `jid` (XEP-0030); rejects with the error condition, e.g. when no such resource is online. */
  discoFeatures(jid: string): Promise<string[]>;
  /** XEP-0215 services the account's server announces. */
  externalServices(): Promise<{ type: string; host: string; port?: number; transport?: string; username?: string; password?: string }[]>;
  /** XEP-0280: ask the server to copy this account's chat messages to this resource. */
  enableCarbons(): Promise<void>;
  /** Chat message bodies received, with whether they came as a carbon copy. */
  messages(): { from: string; body: string; carbon: boolean }[];
  sendMessage(to: string, body: string): void;
  trace(): StanzaTraceEntry[];
  logout(): Promise<void>;
}
