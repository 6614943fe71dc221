import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** Which way a datagram went through the proxy. */
export type TraceDirection = 'to-anchor' | 'to-party';

/** What a datagram was, read from its first bytes (RFC 7983 section 7 demultiplexing). */
export type TraceKind = 'stun-request' | 'stun-success' | 'stun-other' | 'dtls-client-hello' | 'dtls' | 'rtp' | 'other';

export interface TraceEntry {
  /** A datagram through the proxy, or a mark the test set between them (`mark`). */
  type: 'datagram' | 'mark';
  direction?: TraceDirection;
  kind?: TraceKind;
  label?: string;
}

/**
 * A UDP relay on loopback between the gateway's ICE endpoint (the anchor) and a WebRTC party, that
 * writes down every datagram in the order it passed, in one list with the test's own marks
 * ("the party applied the answer"). Each side is told the proxy's port instead of the other's:
 * the anchor reaches the party at `anchorFacingPort`, the party reaches the anchor at
 * `partyFacingPort`; each socket sends on what the other received, so both ICE agents see one
 * consistent peer. Where a side's real address is not preset, the first datagram from it teaches it.
 */
export class UdpTraceProxy {
  readonly trace: TraceEntry[] = [];
  #anchor: { address: string; port: number } | undefined;
  #party: { address: string; port: number } | undefined;

  private constructor(
    private readonly anchorFacing: Socket,
    private readonly partyFacing: Socket,
  ) {
    anchorFacing.on('message', (data, from) => {
      this.#anchor ??= from;
      this.#forward(data, from, 'to-party', partyFacing, this.#party);
    });
    partyFacing.on('message', (data, from) => {
      this.#party ??= from;
      this.#forward(data, from, 'to-anchor', anchorFacing, this.#anchor);
    });
  }

  static async start(): Promise<UdpTraceProxy> {
    const bind = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const socket = createSocket('udp4');
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve(socket));
      });
    return new UdpTraceProxy(await bind(), await bind());
  }

  /** The anchor's real address (from its candidate), where the first datagram cannot teach it. */
  setAnchor(address: { address: string; port: number }): void {
    this.#anchor = address;
  }

  /** The party's real address (from its candidate). */
  setParty(address: { address: string; port: number }): void {
    this.#party = address;
  }

  /** Where the anchor must believe the party is. */
  get anchorFacingPort(): number {
    return this.anchorFacing.address().port;
  }

  /** Where the party must believe the anchor is. */
  get partyFacingPort(): number {
    return this.partyFacing.address().port;
  }

  mark(label: string): void {
    this.trace.push({ type: 'mark', label });
  }

  /** Position of the first entry that matches, or -1. */
  indexOf(match: (entry: TraceEntry) => boolean): number {
    return this.trace.findIndex(match);
  }

  close(): void {
    this.anchorFacing.close();
    this.partyFacing.close();
  }

  #forward(data: Buffer, _from: RemoteInfo, direction: TraceDirection, out: Socket, to: { address: string; port: number } | undefined): void {
    this.trace.push({ type: 'datagram', direction, kind: kindOf(data) });
    if (to) out.send(data, to.port, to.address);
  }
}

function kindOf(data: Buffer): TraceKind {
  const first = data[0] ?? 0;
  if (first <= 3 && data.length >= 20) {
    const type = data.readUInt16BE(0);
    return type === 0x0001 ? 'stun-request' : type === 0x0101 ? 'stun-success' : 'stun-other';
  }
  // DTLS record: content type 22 (handshake), epoch 0, handshake type 1 (ClientHello) at byte 13.
  if (first >= 20 && first <= 63) return first === 22 && data[13] === 1 ? 'dtls-client-hello' : 'dtls';
  if (first >= 128 && first <= 191) return 'rtp';
  return 'other';
}
