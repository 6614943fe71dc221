import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveBundledPage, type PageServer } from '../bundled-page-server.js';

export type SipJsPageServer = PageServer;

/** The SIP.js softphone page (sipjs-page-entry.ts with SIP.js bundled), served on loopback. */
export function serveSipJsPage(): Promise<SipJsPageServer> {
  return serveBundledPage({ entry: join(dirname(fileURLToPath(import.meta.url)), 'sipjs-page-entry.ts'), title: 'SIP.js softphone', scriptName: 'sipjs-phone.js' });
}
