import type { Element } from '@xmpp/xml';
import { NS_EXTDISCO } from './jingle/namespaces.js';

/** One `<service/>` of an XEP-0215 result that ICE can use. */
export interface ExternalIceService {
  type: 'stun' | 'turn' | 'turns';
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  username?: string;
  password?: string;
}

/**
 * The STUN/TURN entries of an XEP-0215 `<services/>` result (section 3.2). Entries without a
 * transport are read as UDP, as most servers mean it; TURN without credentials is skipped (it
 * could not allocate), and so is anything malformed (jitsi/lib-jitsi-meet#1458: servers vary).
 */
export function readExternalServices(services: Element | undefined): ExternalIceService[] {
  if (!services || services.attrs.xmlns !== NS_EXTDISCO) return [];
  const out: ExternalIceService[] = [];
  for (const service of services.getChildren('service')) {
    const type = String(service.attrs.type ?? '');
    if (type !== 'stun' && type !== 'turn' && type !== 'turns') continue;
    const host = String(service.attrs.host ?? '');
    const port = Number(service.attrs.port ?? (type === 'turns' ? 5349 : 3478));
    const transport = String(service.attrs.transport ?? 'udp');
    if (!/^[A-Za-z0-9.:[\]-]{1,253}$/.test(host) || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    if (transport !== 'udp' && transport !== 'tcp') continue;
    const username = service.attrs.username as string | undefined;
    const password = service.attrs.password as string | undefined;
    if (type !== 'stun' && (!username || !password)) continue;
    out.push({ type, host, port, transport, ...(username ? { username } : {}), ...(password ? { password } : {}) });
  }
  return out;
}

/**
 * node-datachannel's server URL form: `stun:host:port`, `turn:USER:PASS@host:port?transport=udp`,
 * user and password percent-encoded (TURN REST user names contain a colon; JINGLE.md section 4).
 */
export function iceServerUrl(service: ExternalIceService): string {
  if (service.type === 'stun') return `stun:${service.host}:${service.port}`;
  const credentials = `${encodeURIComponent(service.username ?? '')}:${encodeURIComponent(service.password ?? '')}`;
  return `${service.type}:${credentials}@${service.host}:${service.port}?transport=${service.transport}`;
}
