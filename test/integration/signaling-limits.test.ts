import { connect as connectTcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ConfigInput } from '../../src/config/load-config.js';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/test-gateway.js';

// What one source may hold of the browser endpoint (hardening issue, item 5): connections waiting to
// log in, connections in all, and everyone together; and how long a request's headers may take.

let gateway: Gateway | undefined;
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  await gateway?.stop();
  gateway = undefined;
});

/** Opens a browser-protocol WebSocket; resolves `open` or the refusal's HTTP status. */
function open(options: { from?: string; forwardedFor?: string } = {}): Promise<{ socket: WebSocket } | { status: number }> {
  const socket = new WebSocket(`ws://127.0.0.1:${gateway!.httpPort}/ws`, {
    ...(options.from ? { localAddress: options.from } : {}),
    ...(options.forwardedFor ? { headers: { 'x-forwarded-for': options.forwardedFor } } : {}),
  });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ socket }));
    socket.once('unexpected-response', (_request, response) => resolve({ status: response.statusCode ?? 0 }));
    socket.once('error', reject);
  });
}

async function login(socket: WebSocket, name: string): Promise<void> {
  const welcome = new Promise<void>((resolve) => socket.on('message', (data) => JSON.parse(String(data)).type === 'welcome' && resolve()));
  socket.send(JSON.stringify({ type: 'login', protocol: 1, name }));
  await welcome;
}

async function limited(signaling: NonNullable<ConfigInput>['signaling'], server: NonNullable<ConfigInput>['server'] = {}): Promise<void> {
  gateway = await startTestGateway({ signaling, server });
}

describe('browser connections per source', () => {
  it('caps connections waiting to log in per source; other sources and logged-in users are not held up', async () => {
    await limited({ maxPendingLoginsPerSource: 3 });
    const waiting = [await open(), await open(), await open()];
    expect(waiting.every((result) => 'socket' in result)).toBe(true);
    expect(await open()).toEqual({ status: 429 });
    expect(await open({ from: '127.0.0.2' })).toHaveProperty('socket');
    // One logs in: its place among the waiting is free again.
    await login((waiting[0] as { socket: WebSocket }).socket, 'alice');
    expect(await open()).toHaveProperty('socket');
    expect(await open()).toEqual({ status: 429 });
    const health = await fetch(`http://127.0.0.1:${gateway!.httpPort}/healthz`);
    expect(health.status).toBe(200);
    const metrics = await (await fetch(`http://127.0.0.1:${gateway!.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/switchboard_websocket_refused_total\{status="429"\} 2/);
  });

  it('caps all connections of a source, logged in or not, and frees places as they close', async () => {
    await limited({ maxConnectionsPerSource: 2 });
    const first = await open();
    const second = await open();
    await login((first as { socket: WebSocket }).socket, 'alice');
    await login((second as { socket: WebSocket }).socket, 'bob');
    expect(await open()).toEqual({ status: 429 });
    (first as { socket: WebSocket }).socket.close();
    await expect.poll(async () => 'socket' in (await open())).toBe(true);
  });

  it('caps all connections together with 503', async () => {
    await limited({ maxConnections: 2 });
    expect(await open()).toHaveProperty('socket');
    expect(await open({ from: '127.0.0.2' })).toHaveProperty('socket');
    expect(await open({ from: '127.0.0.3' })).toEqual({ status: 503 });
  });

  it('counts clients behind a trusted proxy by X-Forwarded-For, and ignores the header from anyone else', async () => {
    await limited({ maxPendingLoginsPerSource: 1 }, { trustedProxies: ['127.0.0.1/32'] });
    expect(await open({ forwardedFor: '203.0.113.1' })).toHaveProperty('socket');
    expect(await open({ forwardedFor: '203.0.113.1' })).toEqual({ status: 429 });
    expect(await open({ forwardedFor: '203.0.113.2' })).toHaveProperty('socket');
    // 127.0.0.2 is no trusted proxy: its header is the client's own word, so it counts as itself.
    expect(await open({ from: '127.0.0.2', forwardedFor: '203.0.113.3' })).toHaveProperty('socket');
    expect(await open({ from: '127.0.0.2', forwardedFor: '203.0.113.4' })).toEqual({ status: 429 });
  });
});

describe('calls per source', () => {
  const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:111 opus/48000/2\r\n';

  /** Places a call and resolves with `ack` or the error code. */
  function place(socket: WebSocket, callId: string, to: string): Promise<string> {
    return new Promise((resolve) => {
      const onMessage = (data: unknown) => {
        const frame = JSON.parse(String(data)) as { type: string; id?: string; code?: string };
        if (frame.id !== callId) return;
        socket.off('message', onMessage);
        resolve(frame.type === 'ack' ? 'ack' : (frame.code ?? frame.type));
      };
      socket.on('message', onMessage);
      socket.send(JSON.stringify({ type: 'call', id: callId, callId, to, sdp: OFFER }));
    });
  }

  it('caps calls placed from one address over all its connections, and gives the place back when a call ends', async () => {
    await limited({ maxCallsPerSource: 2, ringTimeoutMs: 30_000 });
    const users = [];
    for (const [name, from] of [['bob', '127.0.0.9'], ['a1', undefined], ['a2', undefined], ['c1', '127.0.0.2']] as const) {
      const result = (await open(from ? { from } : {})) as { socket: WebSocket };
      await login(result.socket, name);
      users.push(result.socket);
    }
    const [, a1, a2, c1] = users as [WebSocket, WebSocket, WebSocket, WebSocket];
    expect(await place(a1, 'call-one-1', 'web:bob')).toBe('ack');
    expect(await place(a2, 'call-two-2', 'web:bob')).toBe('ack');
    expect(await place(a1, 'call-three', 'web:bob')).toBe('too-many-calls');
    expect(await place(c1, 'call-other', 'web:bob')).toBe('ack');
    a2.send(JSON.stringify({ type: 'hangup', callId: 'call-two-2' }));
    await expect.poll(() => place(a1, `call-${Date.now()}`, 'web:bob')).toBe('ack');
  });
});

describe('slow requests', () => {
  it('a client that never finishes its upgrade request headers is cut off after server.headersTimeoutMs', async () => {
    await limited({}, { headersTimeoutMs: 1000 });
    const socket = connectTcp(gateway!.httpPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write('GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nX-Slow: ');
    let answer = '';
    socket.on('data', (data) => (answer += String(data)));
    const closedWithin = await new Promise<number>((resolve) => {
      const started = Date.now();
      const bound = setTimeout(() => resolve(Infinity), 8000);
      socket.once('close', () => {
        clearTimeout(bound);
        resolve(Date.now() - started);
      });
      socket.on('error', () => {});
    });
    socket.destroy();
    expect(closedWithin).toBeLessThan(8000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  }, 15_000);
});
