/**
 * A UDP relay on 127.0.0.1 that loses packets on purpose, to prove that SIP
 * over UDP gets through by retransmission. Clients send to `port`; each
 * client address gets its own upstream socket towards the server, so the
 * server's answers (sent back to the packet's source, as with Via rport and
 * sipp) come back through the relay and are forwarded to that client.
 *
 * Loss is decided by a seeded PRNG per direction, so the n-th packet in a
 * direction is dropped or not the same way on every run.
 *
 * Only traffic that goes to the relay is relayed: requests the server sends
 * to the client's Contact (a BYE from the server, say) bypass it.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export type RelayDirection = 'toServer' | 'toClient';

export interface LossyUdpRelayOptions {
  /** The server's port on 127.0.0.1. */
  serverPort: number;
  /** Port the relay listens on for clients (0 or omitted: any free one). */
  port?: number;
  /** Share of packets to drop in each direction, 0..1 (default 0.2). */
  dropRate?: number;
  /** PRNG seed (default 1). */
  seed?: number;
  /** Overrides the PRNG: decide per packet (index counts packets in that direction from 0). */
  shouldDrop?: (direction: RelayDirection, index: number, packet: Buffer) => boolean;
}

export interface RelayCounters {
  forwarded: number;
  dropped: number;
}

export interface LossyUdpRelay {
  port: number;
  stats: Record<RelayDirection, RelayCounters>;
  /** One line per packet: direction, dropped or forwarded, and the first line of its text (for SIP). */
  log: string[];
  close(): Promise<void>;
}

/** mulberry32: a small, fast 32-bit PRNG; good enough for loss patterns. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startLossyUdpRelay(options: LossyUdpRelayOptions): Promise<LossyUdpRelay> {
  const dropRate = options.dropRate ?? 0.2;
  const seed = options.seed ?? 1;
  const random: Record<RelayDirection, () => number> = {
    toServer: seededRandom(seed),
    toClient: seededRandom(seed ^ 0x9e3779b9),
  };
  const stats: Record<RelayDirection, RelayCounters> = {
    toServer: { forwarded: 0, dropped: 0 },
    toClient: { forwarded: 0, dropped: 0 },
  };
  const log: string[] = [];
  const decide = (direction: RelayDirection, packet: Buffer): boolean => {
    const index = stats[direction].forwarded + stats[direction].dropped;
    // Always draw, so an override does not shift the sequence for the other direction.
    const draw = random[direction]();
    const drop = options.shouldDrop ? options.shouldDrop(direction, index, packet) : draw < dropRate;
    stats[direction][drop ? 'dropped' : 'forwarded']++;
    const firstLine = packet.subarray(0, Math.min(packet.length, 120)).toString('latin1').split('\r\n')[0];
    log.push(`${direction} #${index} ${drop ? 'DROPPED' : 'forwarded'} ${firstLine}`);
    return drop;
  };

  const front = createSocket('udp4');
  const upstreams = new Map<string, Promise<Socket>>();
  const upstreamFor = (client: RemoteInfo): Promise<Socket> => {
    const key = `${client.address}:${client.port}`;
    let upstream = upstreams.get(key);
    if (!upstream) {
      upstream = new Promise<Socket>((resolve, reject) => {
        const socket = createSocket('udp4');
        socket.once('error', reject);
        socket.on('message', (packet) => {
          if (!decide('toClient', packet)) front.send(packet, client.port, client.address);
        });
        socket.bind(0, '127.0.0.1', () => resolve(socket));
      });
      upstreams.set(key, upstream);
    }
    return upstream;
  };
  front.on('message', (packet, client) => {
    void upstreamFor(client).then((socket) => {
      if (!decide('toServer', packet)) socket.send(packet, options.serverPort, '127.0.0.1');
    });
  });
  await new Promise<void>((resolve, reject) => {
    front.once('error', reject);
    front.bind(options.port ?? 0, '127.0.0.1', () => resolve());
  });

  return {
    port: front.address().port,
    stats,
    log,
    async close() {
      const sockets = [front, ...(await Promise.all(upstreams.values()))];
      await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    },
  };
}
