import { xml } from '@xmpp/client';
import type { Element } from '@xmpp/xml';
import { transportInfoImport } from '../../../adapters/xmpp/jingle/jingle-import.js';
import { writeSdpCandidate } from '../../../adapters/xmpp/jingle/sdp-candidate.js';
import type { ConfigInput } from '../../../src/config/load-config.js';
import type { Gateway } from '../../../src/gateway.js';
import { decodePcmu, encodePcmu } from '../../../src/media/g711.js';
import { buildRtpPacket, parseRtpHeader, rtpPayload } from '../../../src/media/rtp-packet.js';
import type { WebRtcEndpoint } from '../../../src/media/webrtc-endpoint.js';
import { startTcpCutProxy, type TcpCutProxy } from '../tcp-cut-proxy.js';
import { startTestGateway } from '../test-gateway.js';
import { makeWebRtcTestPeer } from '../webrtc-test-peer.js';
import { WsTestClient } from '../ws-test-client.js';
import { startProsody, type ProsodyOptions, type RunningProsody } from './prosody.js';
import { XmppTestClient } from './xmpp-test-client.js';

/** The component domain of `XmppLab.start({ component: true })`. */
export const COMPONENT_DOMAIN = 'gw.localhost';

/**
 * A real Prosody on loopback with throw-away users, the gateway logged in as the service account
 * `gateway@localhost`, and helpers for web users, XMPP clients and node-datachannel media peers.
 * `stop()` ends everything it started, newest first.
 */
export class XmppLab {
  readonly #cleanups: (() => unknown)[] = [];

  private constructor(
    readonly prosody: RunningProsody,
    readonly gateway: Gateway,
    /** With `throughCutProxy`: the relay between the gateway and Prosody. */
    readonly cutProxy: TcpCutProxy | undefined,
  ) {}

  static async start(
    options: {
      users?: Record<string, string>;
      prosody?: Omit<ProsodyOptions, 'users'>;
      xmpp?: NonNullable<NonNullable<ConfigInput>['xmpp']>;
      config?: ConfigInput;
      throughCutProxy?: boolean;
      /** Also run the gateway as the XMPP component `gw.localhost` (XEP-0114). */
      component?: boolean;
    } = {},
  ): Promise<XmppLab> {
    const component = options.component ? { domain: COMPONENT_DOMAIN, secret: 'component-secret' } : undefined;
    const prosody = await startProsody({ ...options.prosody, ...(component ? { component } : {}), users: { gateway: 'gateway-secret', ...options.users } });
    const cutProxy = options.throughCutProxy ? await startTcpCutProxy(prosody.port) : undefined;
    try {
      const server = cutProxy ? `xmpp://127.0.0.1:${cutProxy.port}` : prosody.service;
      const gateway = await startTestGateway({
        ...options.config,
        xmpp: {
          enabled: true,
          server,
          service: { jid: 'gateway@localhost', password: 'gateway-secret' },
          // The lab's web users are guests, and calling and messaging XMPP users is what it tests.
          outbound: { guests: true },
          ...(component ? { component: { domain: component.domain, password: component.secret, server: prosody.componentService! } } : {}),
          ...options.xmpp,
        },
      });
      return new XmppLab(prosody, gateway, cutProxy);
    } catch (error) {
      await cutProxy?.close();
      await prosody.stop();
      throw error;
    }
  }

  /** A web user; with its resource of the service account bound (`registered`) unless `waitForXmpp` is false. */
  async webUser(name: string, options: { waitForXmpp?: boolean; login?: Record<string, unknown> } = {}): Promise<WsTestClient> {
    const client = await WsTestClient.connect(this.gateway.httpPort);
    this.#cleanups.push(() => client.close());
    client.send({ type: 'login', id: 'login', protocol: 1, name, ...options.login });
    await client.next('welcome');
    if (options.waitForXmpp !== false) await client.next('registration', (r) => r.state === 'registered', 10_000);
    return client;
  }

  async xmppClient(user: string, password: string, resource = 'phone'): Promise<XmppTestClient> {
    const client = await XmppTestClient.login(this.prosody.service, this.prosody.host, user, password, resource);
    this.#cleanups.push(() => client.stop());
    return client;
  }

  webrtcPeer(name: string): WebRtcEndpoint {
    return makeWebRtcTestPeer(name, (close) => this.#cleanups.push(close));
  }

  async stop(): Promise<void> {
    for (const cleanup of this.#cleanups.splice(0).reverse()) await cleanup();
    await this.gateway.stop();
    await this.cutProxy?.close();
    await this.prosody.stop();
  }
}

/**
 * Takes the candidates the gateway trickles to an XMPP test client in its next transport-info (an
 * anchor sends its own after its accept) into the client's media peer, as a trickling client does.
 */
export async function takeTrickledCandidates(client: XmppTestClient, endpoint: WebRtcEndpoint): Promise<void> {
  const info = await client.jingle('transport-info');
  for (const update of transportInfoImport(info, { author: 'responder' })) {
    for (const candidate of update.candidates) endpoint.addRemoteCandidate({ candidate: writeSdpCandidate(candidate), sdpMid: update.mid });
  }
}

/** Resolves when a node-datachannel peer's ICE + DTLS is up. */
export function waitConnected(endpoint: WebRtcEndpoint, timeoutMs = 15_000): Promise<void> {
  if (endpoint.state === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${endpoint.name} stayed ${endpoint.state}`)), timeoutMs);
    endpoint.on('statechange', (state) => {
      if (state !== 'connected') return;
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Sends `packets` 20 ms PCMU packets of a 440 Hz tone, paced one every 20 ms. A second tone from
 * the same sender starts at `firstPacket` past the first one's end: SRTP receivers drop replayed
 * sequence numbers (RFC 3711 section 3.3.2).
 */
export async function sendTone(from: WebRtcEndpoint, packets = 25, firstPacket = 0): Promise<void> {
  const ssrc = 0x1234abcd;
  for (let i = firstPacket; i < firstPacket + packets; i += 1) {
    const tone = new Int16Array(160);
    for (let n = 0; n < 160; n += 1) tone[n] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (i * 160 + n)) / 8000));
    from.sendRtp(buildRtpPacket({ payloadType: 0, sequenceNumber: i, timestamp: i * 160, ssrc, marker: i === 0, payload: encodePcmu(tone) }));
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Counts the PCMU packets `to` receives while `during` runs (plus 200 ms), and the RMS of their decoded audio. */
export async function measurePcmu(to: WebRtcEndpoint, during: () => Promise<unknown>): Promise<{ received: number; rms: number }> {
  let received = 0;
  let sumSquares = 0;
  let samples = 0;
  const onRtp = (packet: Buffer) => {
    const header = parseRtpHeader(packet);
    if (!header || header.payloadType !== 0) return;
    received += 1;
    for (const sample of decodePcmu(rtpPayload(packet, header))) {
      sumSquares += sample * sample;
      samples += 1;
    }
  };
  to.on('rtp', onRtp);
  await during();
  await new Promise((resolve) => setTimeout(resolve, 200));
  to.off('rtp', onRtp);
  return { received, rms: samples === 0 ? 0 : Math.sqrt(sumSquares / samples) };
}

/** A tone from `from`, measured at `to`. */
export function sendToneBetween(from: WebRtcEndpoint, to: WebRtcEndpoint, packets = 25, firstPacket = 0): Promise<{ received: number; rms: number }> {
  return measurePcmu(to, () => sendTone(from, packets, firstPacket));
}

/** `<iq type='set'><jingle action sid/></iq>` to `to`. */
export function jingleIq(to: string, action: string, sid: string, children: Element[] = [], attrs: Record<string, string> = {}): Element {
  return xml('iq', { type: 'set', to }, xml('jingle', { xmlns: 'urn:xmpp:jingle:1', action, sid, ...attrs }, ...children));
}

/** The stanza error condition a request failed with, or undefined when it succeeded. */
export async function stanzaErrorOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    return (error as { condition?: string }).condition ?? String(error);
  }
}
