import { createSocket } from 'node:dgram';
import { freePort } from '../free-port.js';

/**
 * Ports handed out recently by this process: freePort() only checks that a
 * port is free now, so peers started side by side could be given the same
 * one before either binds it.
 */
const handedOut = new Map<number, number>();
const REMEMBER_MS = 120_000;

/** freePort(), but never a port this process handed out in the last two minutes. */
export async function allocatePort(): Promise<number> {
  const now = Date.now();
  for (const [port, at] of handedOut) if (now - at > REMEMBER_MS) handedOut.delete(port);
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (handedOut.has(port) || handedOut.has(port - 2) || handedOut.has(port + 2) || handedOut.has(port - 1) || handedOut.has(port + 1)) continue;
    handedOut.set(port, now);
    return port;
  }
  throw new Error('no free port found');
}

export function udpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

/**
 * A UDP port for sipp's media (-mp): sipp always binds it and the port two
 * above (audio and video echo sockets, 6000 and 6002 without -mp), so both
 * must be free.
 */
export async function freeMediaPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await allocatePort();
    if (port + 2 < 65536 && (await udpPortFree(port + 2))) {
      handedOut.set(port + 2, Date.now());
      return port;
    }
  }
  throw new Error('no free media port pair found');
}

/**
 * A block of RTP ports for one peer. Peers pick random ports inside it and
 * retry on a busy one, so blocks only need to be unlikely to overlap.
 */
export function randomRtpPortRange(size = 100): [number, number] {
  const block = Math.floor(Math.random() * 100);
  const start = 20000 + block * size;
  return [start, start + size - 1];
}
