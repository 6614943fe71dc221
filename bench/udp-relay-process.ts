/**
 * The reference of the media benchmark: the least a Node process can do per
 * packet of a call. A forked child relays UDP between two sockets per stream
 * (receive on A, send from B, and back), with no parsing, no crypto, no
 * rewriting. Its CPU per stream at the same packet rate is this machine's
 * floor for a Node media relay; the gateway's CPU per call reads as a
 * multiple of it, and its latency is the path's own (kernel + two event loops).
 *
 * Run as the child (main module) it relays; imported, it gives startUdpRelay().
 */
import { createSocket, type Socket } from 'node:dgram';
import { IpcChild, isMainModule, reportToParent } from './ipc-child.js';

const HOST = '127.0.0.1';

/** Where the parent's two endpoints of one stream listen. */
export interface StreamEnds {
  aPeer: number;
  bPeer: number;
}

export type RelayCommand = { cmd: 'add'; streams: StreamEnds[] } | { cmd: 'stats' } | { cmd: 'stop' };

export type RelayReport =
  | { type: 'ready'; pid: number }
  | { type: 'added'; ports: { a: number; b: number }[] }
  | { type: 'stats'; cpu: NodeJS.CpuUsage; memory: NodeJS.MemoryUsage }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

export type RelayChild = IpcChild<RelayCommand, RelayReport>;

export async function startUdpRelay(): Promise<RelayChild> {
  return (await IpcChild.fork<RelayCommand, RelayReport>(new URL(import.meta.url), { label: 'udp relay' })).child;
}

// ---------------------------------------------------------------- child side

async function bound(): Promise<Socket> {
  // The same receive buffer as the parent's sockets, so a burst is absorbed alike.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, HOST, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  socket.on('error', () => {}); // ECONNREFUSED from a closed peer must not end the relay
  return socket;
}

async function childMain(): Promise<void> {
  const sockets: Socket[] = [];
  process.on('message', (command: RelayCommand) => {
    if (command.cmd === 'add') {
      Promise.all(
        command.streams.map(async ({ aPeer, bPeer }) => {
          const [a, b] = [await bound(), await bound()];
          sockets.push(a, b);
          a.on('message', (packet) => b.send(packet, bPeer, HOST));
          b.on('message', (packet) => a.send(packet, aPeer, HOST));
          return { a: a.address().port, b: b.address().port };
        }),
      ).then(
        (ports) => reportToParent({ type: 'added', ports } satisfies RelayReport),
        (error: unknown) => reportToParent({ type: 'failed', message: String(error) } satisfies RelayReport),
      );
    } else if (command.cmd === 'stats') {
      reportToParent({ type: 'stats', cpu: process.cpuUsage(), memory: process.memoryUsage() } satisfies RelayReport);
    } else {
      for (const socket of sockets) socket.close();
      reportToParent({ type: 'stopped' } satisfies RelayReport, () => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  reportToParent({ type: 'ready', pid: process.pid } satisfies RelayReport);
}

if (isMainModule(import.meta.url)) {
  childMain().catch((error: unknown) => reportToParent({ type: 'failed', message: String(error) }, () => process.exit(1)));
}
