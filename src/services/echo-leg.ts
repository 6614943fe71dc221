import type { Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { Address } from '../calls/address.js';
import type { IncomingCall, Leg, LegMediaCapabilities } from '../calls/leg.js';
import { LocalPartyLeg } from '../calls/local-party-leg.js';
import { CallFailedError } from '../errors/gateway-error.js';
import type { Logger } from '../logging/logger.js';
import { supportedAudioCodecs, telephoneEventAt } from '../media/codecs.js';
import type { PortAllocator } from '../media/port-allocator.js';
import { buildRtpAvpSdp, parseAudioDescription } from '../media/sdp-audio.js';

/** Where the echo reflector listens: inside the gateway, so loopback is enough. */
const ECHO_HOST = '127.0.0.1';

/**
 * `service:echo`: answers at once and sends every RTP packet back where it
 * came from, like Janus's EchoTest. It is a plain-RTP party, so a browser's
 * echo call crosses the whole anchor (ICE, DTLS-SRTP, forwarder, RTP) twice:
 * what the browser hears back proves its microphone and its path.
 */
export class EchoLeg extends LocalPartyLeg implements Leg {
  readonly address: Address = { scheme: 'service', user: 'echo', uri: 'service:echo' };
  readonly capabilities: LegMediaCapabilities = { webrtc: false, trickle: false };
  #sockets: { rtp: Socket; rtcp: Socket; port: number } | undefined;
  #packets = 0;

  constructor(
    readonly id: string,
    private readonly ports: PortAllocator,
    private readonly logger: Logger,
  ) {
    super();
  }

  /** Packets reflected so far. */
  get packets(): number {
    return this.#packets;
  }

  async deliverCall(call: IncomingCall): Promise<void> {
    const offer = parseAudioDescription(call.sdp);
    if (offer.webrtc) throw new CallFailedError('incompatible-media', 'service:echo needs the gateway to anchor media');
    const audio = supportedAudioCodecs(offer.codecs)[0];
    if (!audio) throw new CallFailedError('incompatible-media', 'no codec the echo service can reflect');
    const dtmf = telephoneEventAt(offer.codecs, audio.clockRate);
    this.#sockets = await this.ports.bindPair(ECHO_HOST);
    if (this.ended) return this.release();
    const expectedPort = offer.port;
    this.#sockets.rtp.on('message', (packet, source) => {
      // Only the anchor's endpoint may use the reflector, never a stranger on the host.
      if (source.port !== expectedPort || this.ended) return;
      this.#packets += 1;
      this.#sockets?.rtp.send(packet, source.port, source.address);
    });
    this.#sockets.rtcp.on('message', () => {});
    const answer = buildRtpAvpSdp({
      address: ECHO_HOST,
      port: this.#sockets.port,
      codecs: dtmf ? [audio, dtmf] : [audio],
      direction: 'sendrecv',
      sessionId: randomInt(1, 2 ** 31),
      version: 1,
    });
    // Answer on the next turn, as any party would: the call must have sent its offer first.
    setImmediate(() => this.emitEvent('answered', answer));
  }

  protected override release(): void {
    const sockets = this.#sockets;
    if (!sockets) return;
    this.#sockets = undefined;
    sockets.rtp.close();
    sockets.rtcp.close();
    this.ports.release(sockets.port);
    this.logger.debug({ callId: this.id, packets: this.#packets }, 'echo ended');
  }
}

