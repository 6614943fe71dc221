/** The listeners `npm start` opens, with the configuration keys that place them (see ListenError). */

import type { GatewayConfig } from '../config/config-schema.js';
import type { Listener } from './listen-error.js';

export const HTTP_LISTENER: Listener = { what: 'HTTP and WebSocket: the demo page, /ws, /sip, /metrics', portKey: 'server.port', hostKey: 'server.host' };

export const STUN_LISTENER: Listener = { what: 'the embedded STUN responder', portKey: 'stun.port', hostKey: 'stun.host' };

/** SIP opens UDP and TCP on sip.port, and TLS on sip.tls.port when configured. */
export function sipListener(sip: GatewayConfig['sip']): (protocol: 'TCP' | 'UDP', port: number) => Listener {
  return (protocol, port) =>
    protocol === 'TCP' && sip.tls && port === sip.tls.port && port !== sip.port
      ? { what: 'SIP over TLS', portKey: 'sip.tls.port', hostKey: 'sip.host' }
      : { what: `SIP over ${protocol}`, portKey: 'sip.port', hostKey: 'sip.host' };
}
