// Runs inside Chromium (bundled by stanza-page-bundle.ts): a StanzaJS client with its own Jingle
// stack and SDP conversion, real RTCPeerConnections and Chromium's fake microphone. Node drives it
// through `window.stanzaPeer` (see stanza-page-api.ts for the contract).
import { createClient, type Agent, type Jingle } from 'stanza';
import type { StanzaEndReason, StanzaLogin, StanzaPageApi, StanzaSnapshot, StanzaTraceEntry } from './stanza-page-api.js';

let client: Agent | undefined;
let session: Jingle.MediaSession | undefined;
let endReason: StanzaEndReason | undefined;
let endingLocally = false;
let incomingCount = 0;
let microphone: MediaStream | undefined;
const trace: StanzaTraceEntry[] = [];
const messages: { from: string; body: string; carbon: boolean }[] = [];
const remoteAudio = document.createElement('audio');
remoteAudio.autoplay = true;
document.body.append(remoteAudio);

/**
 * Tests only ever use loopback (PEERS.md). Chromium also announces eth0's addresses (and TCP
 * candidates, which the gateway does not use): only loopback UDP candidates are signalled or applied.
 */
function isLoopbackCandidate(candidate: string): boolean {
  const [, , protocol, , address = ''] = candidate.split(' ');
  return protocol?.toLowerCase() === 'udp' && (address.startsWith('127.') || address === '::1');
}

/**
 * StanzaJS's hook for making PeerConnections: the same PeerConnection, but local candidates that
 * are not loopback never reach its `onicecandidate` (so are never sent as transport-info), and
 * remote ones are never applied.
 */
function loopbackPeerConnection(_session: unknown, config?: RTCConfiguration): RTCPeerConnection {
  const pc = new RTCPeerConnection({ ...config, iceServers: [] });
  const addIceCandidate = pc.addIceCandidate.bind(pc);
  pc.addIceCandidate = (candidate?: RTCIceCandidateInit | null) => {
    if (candidate?.candidate && !isLoopbackCandidate(candidate.candidate)) return Promise.resolve();
    return addIceCandidate(candidate ?? undefined);
  };
  Object.defineProperty(pc, 'onicecandidate', {
    set(handler: (event: RTCPeerConnectionIceEvent) => void) {
      pc.addEventListener('icecandidate', (event) => {
        if (!event.candidate?.candidate || isLoopbackCandidate(event.candidate.candidate)) handler(event);
      });
    },
  });
  return pc;
}

async function getMicrophone(): Promise<MediaStream> {
  microphone ??= await navigator.mediaDevices.getUserMedia({ audio: true, video: false });
  return microphone;
}

function track(next: Jingle.MediaSession): void {
  session = next;
  endReason = undefined;
  endingLocally = false;
}

function requireClient(): Agent {
  if (!client) throw new Error('not logged in');
  return client;
}

function requireSession(): Jingle.MediaSession {
  if (!session) throw new Error('no session');
  return session;
}

async function addMicrophone(target: Jingle.MediaSession): Promise<void> {
  const stream = await getMicrophone();
  for (const audio of stream.getAudioTracks()) await target.addTrack(audio, stream);
}

function end(condition: string): void {
  endingLocally = true;
  requireSession().end(condition as never);
}

const api: StanzaPageApi = {
  async login(options: StanzaLogin) {
    const agent = createClient({
      jid: options.jid,
      password: options.password,
      resource: options.resource,
      transports: { websocket: options.websocketUrl, bosh: false },
      // Audio only, nothing from outside: no default public STUN server (StanzaJS has one).
      jingle: { advertiseVideo: false, advertiseFileTransfer: false, iceServers: [], trickleIce: true },
    });
    client = agent;
    agent.jingle.createPeerConnection = loopbackPeerConnection as never;
    agent.on('raw:incoming', (xml: string) => trace.push({ at: Date.now(), direction: 'in', xml }));
    agent.on('raw:outgoing', (xml: string) => trace.push({ at: Date.now(), direction: 'out', xml }));
    // StanzaJS emits a carbon twice: as the wrapper (with `carbon`) and as the forwarded message.
    const forwarded = new WeakSet<object>();
    agent.on('carbon:received', (wrapper) => {
      const copy = wrapper.carbon!.forward.message!;
      forwarded.add(copy);
      if (copy.body) messages.push({ from: String(copy.from), body: copy.body, carbon: true });
    });
    agent.on('message', (message) => {
      if (message.carbon || forwarded.has(message) || !message.body) return;
      messages.push({ from: String(message.from), body: message.body, carbon: false });
    });
    agent.jingle.on('peerTrackAdded', (_session: unknown, _track: MediaStreamTrack, stream: MediaStream) => {
      remoteAudio.srcObject = stream;
    });
    agent.on('jingle:incoming', async (incoming) => {
      incomingCount++;
      const media = incoming as Jingle.MediaSession;
      track(media);
      // What a StanzaJS phone shows its user (XEP-0167 section 7.1): the callee is alerting.
      await media.ring();
      if (options.autoAnswer) await api.answer();
    });
    agent.on('jingle:terminated', (ended, reason) => {
      if (ended !== session) return;
      endReason = { condition: reason?.condition ?? 'unknown', text: reason?.text, by: endingLocally ? 'local' : 'remote' };
    });
    const bound = new Promise<string>((resolve, reject) => {
      agent.once('session:started', () => resolve(String(agent.jid)));
      const traced = () => trace.map((entry) => `${entry.direction} ${entry.xml}`).join('\n');
      agent.once('disconnected', () => reject(new Error(`disconnected before the session started:\n${traced()}`)));
      agent.once('auth:failed', () => reject(new Error('authentication failed')));
    });
    agent.connect();
    const jid = await bound;
    // Available presence, so the server routes to this resource and peers see its caps.
    agent.sendPresence();
    return jid;
  },

  async call(jid: string) {
    const media = requireClient().jingle.createMediaSession(jid);
    track(media);
    await addMicrophone(media);
    await media.start({ offerToReceiveAudio: true });
    return media.sid;
  },

  async answer() {
    const media = requireSession();
    await addMicrophone(media);
    await media.accept();
  },

  reject(condition: string) {
    end(condition);
  },

  hangup(condition: string) {
    end(condition);
  },

  snapshot(): StanzaSnapshot {
    return {
      jid: String(client?.jid ?? ''),
      sid: session?.sid,
      peer: session?.peerID,
      role: session?.role as StanzaSnapshot['role'],
      state: (session?.state ?? 'none') as StanzaSnapshot['state'],
      connectionState: session?.connectionState,
      endReason,
      incomingCount,
    };
  },

  async audioStats() {
    const pc = requireSession().pc;
    const reports = new Map<string, Record<string, unknown>>();
    (await pc.getStats()).forEach((report: Record<string, unknown>) => reports.set(String(report.id), report));
    let packetsReceived = 0;
    let totalAudioEnergy = 0;
    let selectedPair: { local: string; remote: string } | undefined;
    for (const report of reports.values()) {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') {
        packetsReceived += Number(report.packetsReceived ?? 0);
        totalAudioEnergy += Number(report.totalAudioEnergy ?? 0);
      }
      if (report.type === 'transport' && report.selectedCandidatePairId) {
        const pair = reports.get(String(report.selectedCandidatePairId));
        const address = (id: unknown) => String(reports.get(String(id))?.address ?? '');
        if (pair) selectedPair = { local: address(pair.localCandidateId), remote: address(pair.remoteCandidateId) };
      }
    }
    return { packetsReceived, totalAudioEnergy, selectedPair };
  },

  async discoFeatures(jid: string) {
    try {
      return (await requireClient().getDiscoInfo(jid)).features ?? [];
    } catch (error) {
      const condition = (error as { error?: { condition?: string } }).error?.condition;
      throw new Error(`disco#info to ${jid} failed: ${condition ?? String(error)}`);
    }
  },

  async externalServices() {
    const agent = requireClient();
    const list = await agent.getServices(agent.config.server!);
    return (list.services ?? []).map((service) => ({
      type: String(service.type),
      host: String(service.host),
      port: service.port,
      transport: service.transport,
      username: service.username,
      password: service.password,
    }));
  },

  async enableCarbons() {
    await requireClient().enableCarbons();
  },

  messages: () => messages,

  sendMessage(to: string, body: string) {
    requireClient().sendMessage({ to, body, type: 'chat' });
  },

  trace: () => trace,

  async logout() {
    const agent = client;
    if (!agent) return;
    const stopped = new Promise<void>((resolve) => agent.once('disconnected', () => resolve()));
    agent.jingle.endAllSessions('gone' as never, true);
    agent.disconnect();
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 2000))]);
    for (const audio of microphone?.getTracks() ?? []) audio.stop();
  },
};

(window as unknown as { stanzaPeer: StanzaPageApi }).stanzaPeer = api;
