// What the SIP.js test page (sipjs-page-entry.ts, running in Chromium) offers to Node as
// `window.sipjsPhone`, and what it reports back. Only plain data crosses page.evaluate.

export interface SipJsConnect {
  /** SIP over WebSocket (RFC 7118), e.g. `ws://127.0.0.1:8080/sip`. */
  websocketUrl: string;
  /** This phone's address of record, e.g. `sip:bob@127.0.0.1`; its user is also its Contact user. */
  aor: string;
  /**
   * The host SIP.js writes in its Via and Contact. RFC 7118 section 5.2: a WebSocket client has
   * no reachable address, so it makes one up (`<random>.invalid`); a known one lets a test
   * address requests to this phone (`sip:bob@<viaHost>;transport=ws`).
   */
  viaHost: string;
  /** Answer incoming calls by itself (after 180 Ringing). Default: wait for answer(). */
  autoAnswer: boolean;
}

/** SIP.js's own session states (api/session-state.ts). */
export type SipJsSessionState = 'none' | 'Initial' | 'Establishing' | 'Established' | 'Terminating' | 'Terminated';

export interface SipJsSnapshot {
  state: SipJsSessionState;
  direction?: 'outgoing' | 'incoming';
  /** Calls this page was offered (INVITEs received), in order. */
  incomingCount: number;
  /** Final status of the last outgoing INVITE, when it was rejected (e.g. 404, 488). */
  rejectedWith?: number;
  /** The BYE came from the other side (`remote`) or from this page (`local`). */
  endedBy?: 'remote' | 'local';
  /** Our description and theirs, as the RTCPeerConnection saw them (for failure messages). */
  localSdp?: string;
  remoteSdp?: string;
  /** RTCPeerConnection's `connectionState`. */
  connectionState?: string;
}

export interface SipJsAudioStats {
  /** getStats() inbound-rtp (audio) `packetsReceived`. */
  packetsReceived: number;
  /** getStats() inbound-rtp (audio) `totalAudioEnergy`: zero for silence. */
  totalAudioEnergy: number;
  /** Candidates of the selected ICE pair, to prove media stayed on loopback. */
  selectedPair?: { local: string; remote: string; localType: string; remoteType: string };
}

export interface SipJsPageApi {
  connect(options: SipJsConnect): Promise<void>;
  /**
   * Sends one REGISTER so the gateway learns this WebSocket flow under `viaHost` (the gateway
   * is no registrar and answers 405; the flow is learnt from any request). Resolves with the status.
   */
  announce(): Promise<number>;
  /** INVITE to `uri` with the fake microphone; resolves once the INVITE is sent. */
  call(uri: string): Promise<void>;
  answer(): Promise<void>;
  /** BYE when established, CANCEL while calling, 486 while ringing. */
  hangup(): Promise<void>;
  snapshot(): SipJsSnapshot;
  audioStats(): Promise<SipJsAudioStats>;
  /** SIP messages both ways, for failure messages. */
  trace(): string[];
  disconnect(): Promise<void>;
}
