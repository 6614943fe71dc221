import { connect as connectTcp, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startProcess, type RunningProcess } from '../support/child-process.js';
import { allocatePort } from '../support/sip/ports.js';
import { WsTestClient } from '../support/ws-test-client.js';

// The real `switchboard` process under a low open-file limit (256, set with
// prlimit before exec) and a flood of SIP/TCP connections, more than the
// limit: SIP connections and the HTTP/WebSocket side share one descriptor
// table, and the SIP caps must leave the web side enough of it.

const FD_LIMIT = 256;
/** 20 sources x 20 connections: more than the descriptor limit, each source within its own share (32). */
const SOURCES = Array.from({ length: 20 }, (_unused, index) => `127.0.0.${10 + index}`);
const PER_SOURCE = 20;

let gateway: RunningProcess | undefined;
const sockets: Socket[] = [];
const clients: WsTestClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  for (const socket of sockets.splice(0)) socket.destroy();
  await gateway?.stop();
  gateway = undefined;
});

/** Opens a connection from `localAddress`; resolves once connected or failed, the socket kept for cleanup. */
function flood(port: number, localAddress: string, closed: { count: number }): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port, localAddress });
    sockets.push(socket);
    socket.once('connect', () => resolve());
    socket.on('error', () => resolve());
    socket.once('close', () => {
      closed.count++;
      resolve();
    });
  });
}

/** Waits until `value()` has not changed for `quietMs` (or `maxMs` passed). */
async function settle(value: () => number, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (value() !== last) {
      last = value();
      since = Date.now();
    }
  }
}

describe('the gateway keeps serving HTTP and WebSocket under a SIP connection flood', () => {
  it(`with ${FD_LIMIT} file descriptors and ${SOURCES.length * PER_SOURCE} SIP/TCP connections, /healthz answers 200 and a web user logs in`, async () => {
    const sipPort = await allocatePort();
    gateway = startProcess('prlimit', [`--nofile=${FD_LIMIT}:${FD_LIMIT}`, '--', process.execPath, 'bin/switchboard.js'], {
      env: {
        PATH: process.env.PATH,
        SWITCHBOARD_SERVER__HOST: '127.0.0.1',
        SWITCHBOARD_SERVER__PORT: '0',
        SWITCHBOARD_STUN__HOST: '127.0.0.1',
        SWITCHBOARD_STUN__PORT: '0',
        SWITCHBOARD_SIP__HOST: '127.0.0.1',
        SWITCHBOARD_SIP__PORT: String(sipPort),
        SWITCHBOARD_SIP__ADVERTISED_HOST: '127.0.0.1',
        SWITCHBOARD_MEDIA__RTP_HOST: '127.0.0.1',
        SWITCHBOARD_MEDIA__ICE_BIND_ADDRESS: '127.0.0.1',
      },
    });
    const listening = await gateway.waitFor(/"httpPort":\d+/);
    const httpPort = Number(listening.split(':')[1]);
    const closed = { count: 0 };
    await Promise.all(SOURCES.flatMap((source) => Array.from({ length: PER_SOURCE }, () => flood(sipPort, source, closed))));
    await settle(() => closed.count, 500, 10_000);

    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
    expect(health.status).toBe(200);
    const alice = await WsTestClient.login(httpPort, 'alice');
    clients.push(alice);
    // The refusals were logged (throttled), and the process is still the one that started.
    expect(gateway.output()).toMatch(/SIP connection refused: sip\.limits\.maxConnections reached/);
    expect(gateway.child.exitCode).toBeNull();
    // The default cap followed the descriptor limit: a quarter of 256.
    expect(gateway.output()).toContain('"maxConnections":64');
  }, 60_000);
});
