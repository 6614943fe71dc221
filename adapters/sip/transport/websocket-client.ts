import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { WebSocket } from 'ws';
import type { TlsClientOptions } from './connection-pool.js';
import { WebSocketConnection } from './sip-connection.js';
import { SipTransportError } from './sip-transport-error.js';

export interface WebSocketClientOptions {
  readonly maxMessageBytes: number;
  readonly idleMs: number;
  readonly connectTimeoutMs: number;
  readonly tlsClient: TlsClientOptions;
}

/**
 * The resource path of a SIP WebSocket server. A SIP URI has no place for
 * one (RFC 7118 section 5.2 only adds `transport=ws`), so the root is used,
 * which is where Kamailio, OpenSIPS and Asterisk listen by default.
 */
const SIP_WEBSOCKET_PATH = '/';

/**
 * Opens SIP over WebSocket as a client (RFC 7118 section 4): the handshake
 * must offer the `sip` subprotocol and the server must select it (section
 * 4.1), otherwise the connection is not a SIP flow and is dropped.
 */
export async function openWebSocketFlow(protocol: 'WS' | 'WSS', host: string, port: number, options: WebSocketClientOptions): Promise<WebSocketConnection> {
  // The host as the URI wrote it: ws resolves names and sends it as Host and TLS SNI.
  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  const url = `${protocol === 'WSS' ? 'wss' : 'ws'}://${urlHost}:${port}${SIP_WEBSOCKET_PATH}`;
  const socket = new WebSocket(url, ['sip'], {
    handshakeTimeout: options.connectTimeoutMs,
    maxPayload: options.maxMessageBytes,
    perMessageDeflate: false,
    ...(protocol === 'WSS' ? { rejectUnauthorized: options.tlsClient.rejectUnauthorized ?? true, ca: options.tlsClient.ca } : {}),
  });
  const ends = await new Promise<{ address: string; localPort: number }>((resolve, reject) => {
    let upgraded = { address: host, localPort: 0 };
    const fail = (error: Error) => {
      socket.terminate();
      reject(new SipTransportError('connect-failed', `${protocol} connection to ${url} failed: ${error.message}`, { cause: error }));
    };
    socket.once('upgrade', (response: IncomingMessage) => {
      upgraded = { address: response.socket.remoteAddress ?? host, localPort: response.socket.localPort ?? 0 };
    });
    socket.once('error', fail);
    socket.once('open', () => {
      socket.off('error', fail);
      if (socket.protocol !== 'sip') fail(new Error(`the server selected subprotocol "${socket.protocol}", not "sip"`));
      else resolve(upgraded);
    });
  });
  return new WebSocketConnection(socket, protocol, { address: ends.address, port, localPort: ends.localPort }, { maxMessageBytes: options.maxMessageBytes, idleMs: options.idleMs, outbound: true });
}
