// Runs inside Chromium (bundled by sipjs-page.ts): SIP.js as a SIP-over-WebSocket softphone
// (RFC 7118) with its own browser SessionDescriptionHandler, real RTCPeerConnections and
// Chromium's fake microphone. Node drives it through `window.sipjsPhone` (sipjs-page-api.ts).
import { Invitation, Inviter, Registerer, SessionState, UserAgent, Web, type Session } from 'sip.js';
import type { SipJsAudioStats, SipJsConnect, SipJsPageApi, SipJsSnapshot } from './sipjs-page-api.js';

let ua: UserAgent | undefined;
let session: Session | undefined;
let incomingCount = 0;
let rejectedWith: number | undefined;
let endedBy: 'remote' | 'local' | undefined;
let endingLocally = false;
let localSdp: string | undefined;
let remoteSdp: string | undefined;
const trace: string[] = [];
const remoteAudio = document.createElement('audio');
remoteAudio.autoplay = true;
document.body.append(remoteAudio);

/**
 * Tests only ever use loopback (PEERS.md). Chromium may still announce other addresses (and TCP
 * candidates): only loopback UDP candidates go into our SDP or are taken from theirs.
 */
function isLoopbackCandidateLine(line: string): boolean {
  const [, , protocol, , address = ''] = line.split(' ');
  return protocol?.toLowerCase() === 'udp' && (address.startsWith('127.') || address === '::1');
}

function keepLoopbackCandidates(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || isLoopbackCandidateLine(line))
    .join('\r\n');
}

/**
 * SIP.js's own browser SDH, unchanged except for what it says and hears about candidates. It
 * waits for ICE gathering to complete and puts every candidate in the SDP (SIP.js does not
 * trickle), which is what makes it a non-trickle WebRTC party for the gateway.
 */
class LoopbackSessionDescriptionHandler extends Web.SessionDescriptionHandler {
  protected override async getLocalSessionDescription(): Promise<RTCSessionDescription> {
    const description = await super.getLocalSessionDescription();
    localSdp = keepLoopbackCandidates(description.sdp);
    return new RTCSessionDescription({ type: description.type, sdp: localSdp });
  }

  protected override setRemoteSessionDescription(description: RTCSessionDescriptionInit): Promise<void> {
    remoteSdp = keepLoopbackCandidates(description.sdp ?? '');
    return super.setRemoteSessionDescription({ type: description.type, sdp: remoteSdp });
  }
}

const sessionDescriptionHandlerFactory = (owner: Session): LoopbackSessionDescriptionHandler =>
  new LoopbackSessionDescriptionHandler(owner.userAgent.getLogger('sip.SessionDescriptionHandler'), Web.defaultMediaStreamFactory(), {
    iceGatheringTimeout: 5000,
    // No STUN server: SIP.js's default configuration names none, but say so rather than rely on it.
    peerConnectionConfiguration: { ...Web.defaultPeerConnectionConfiguration(), iceServers: [] },
  });

function requireUserAgent(): UserAgent {
  if (!ua) throw new Error('not connected');
  return ua;
}

function peerConnection(): RTCPeerConnection | undefined {
  return (session?.sessionDescriptionHandler as LoopbackSessionDescriptionHandler | undefined)?.peerConnection;
}

function track(next: Session): void {
  session = next;
  endedBy = undefined;
  endingLocally = false;
  localSdp = undefined;
  remoteSdp = undefined;
  next.stateChange.addListener((state) => {
    if (state === SessionState.Established) {
      remoteAudio.srcObject = (next.sessionDescriptionHandler as LoopbackSessionDescriptionHandler).remoteMediaStream;
    }
    if (state === SessionState.Terminated && next === session) endedBy = endingLocally ? 'local' : 'remote';
  });
}

const api: SipJsPageApi = {
  async connect(options: SipJsConnect) {
    const uri = UserAgent.makeURI(options.aor);
    if (!uri) throw new Error(`${options.aor} is not a SIP URI`);
    const agent = new UserAgent({
      uri,
      viaHost: options.viaHost,
      contactName: uri.user,
      transportOptions: { server: options.websocketUrl, traceSip: true },
      sessionDescriptionHandlerFactory,
      logBuiltinEnabled: false,
      logLevel: 'log',
      logConnector: (_level, category, _label, content) => {
        if (category === 'sip.Transport' && /^(Sending|Received) WebSocket/.test(content)) trace.push(content.trim());
      },
      delegate: {
        onInvite: (invitation: Invitation) => {
          incomingCount++;
          track(invitation);
          invitation.progress().catch(() => {});
          if (options.autoAnswer) void api.answer();
        },
      },
    });
    ua = agent;
    await agent.start();
  },

  async announce() {
    const registerer = new Registerer(requireUserAgent(), { expires: 60 });
    return new Promise<number>((resolve, reject) => {
      registerer
        .register({
          requestDelegate: {
            onAccept: (response) => resolve(response.message.statusCode ?? 0),
            onReject: (response) => resolve(response.message.statusCode ?? 0),
          },
        })
        .catch(reject);
    });
  },

  async call(target: string) {
    const uri = UserAgent.makeURI(target);
    if (!uri) throw new Error(`${target} is not a SIP URI`);
    rejectedWith = undefined;
    const inviter = new Inviter(requireUserAgent(), uri, {
      sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } },
    });
    track(inviter);
    await inviter.invite({
      requestDelegate: { onReject: (response) => (rejectedWith = response.message.statusCode) },
    });
  },

  async answer() {
    if (!(session instanceof Invitation)) throw new Error('no incoming call');
    await session.accept({ sessionDescriptionHandlerOptions: { constraints: { audio: true, video: false } } });
  },

  async hangup() {
    const current = session;
    if (!current) throw new Error('no call');
    endingLocally = true;
    if (current.state === SessionState.Established) await current.bye();
    else if (current instanceof Inviter) await current.cancel();
    else if (current instanceof Invitation) await current.reject({ statusCode: 486 });
  },

  snapshot(): SipJsSnapshot {
    return {
      state: session ? (session.state as SipJsSnapshot['state']) : 'none',
      ...(session ? { direction: session instanceof Inviter ? 'outgoing' : 'incoming' } : {}),
      incomingCount,
      ...(rejectedWith !== undefined ? { rejectedWith } : {}),
      ...(endedBy ? { endedBy } : {}),
      ...(localSdp ? { localSdp } : {}),
      ...(remoteSdp ? { remoteSdp } : {}),
      ...(peerConnection() ? { connectionState: peerConnection()!.connectionState } : {}),
    };
  },

  async audioStats(): Promise<SipJsAudioStats> {
    const pc = peerConnection();
    if (!pc) throw new Error('no peer connection');
    const stats = await pc.getStats();
    const byId = new Map<string, Record<string, unknown>>();
    stats.forEach((report: Record<string, unknown>) => byId.set(String(report.id), report));
    const result: SipJsAudioStats = { packetsReceived: 0, totalAudioEnergy: 0 };
    let pairId: string | undefined;
    byId.forEach((report) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') {
        result.packetsReceived = Number(report.packetsReceived ?? 0);
        result.totalAudioEnergy = Number(report.totalAudioEnergy ?? 0);
      }
      if (report.type === 'transport' && report.selectedCandidatePairId) pairId = String(report.selectedCandidatePairId);
    });
    const pair = pairId ? byId.get(pairId) : undefined;
    if (pair) {
      const local = byId.get(String(pair.localCandidateId));
      const remote = byId.get(String(pair.remoteCandidateId));
      result.selectedPair = {
        local: `${String(local?.address)}:${String(local?.port)}`,
        remote: `${String(remote?.address)}:${String(remote?.port)}`,
        localType: String(local?.candidateType),
        remoteType: String(remote?.candidateType),
      };
    }
    return result;
  },

  trace: () => trace.slice(),

  async disconnect() {
    await ua?.stop();
    ua = undefined;
  },
};

window.sipjsPhone = api;

declare global {
  interface Window {
    sipjsPhone: SipJsPageApi;
  }
}
