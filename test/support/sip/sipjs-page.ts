import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveBundledPage, type PageServer } from '../bundled-page-server.js';

export type SipJsPageServer = PageServer;

/** The SIP.js softphone page (sipjs-page-entry.ts with SIP.js bundled), served on loopback. */
export function serveSipJsPage(): Promise<SipJsPageServer> {
  const here = dirname(fileURLToPath(import.meta.url));
  // Beside this file in the sources; from dist/test/support/sip (the benchmarks), back in the sources.
  const entry = [join(here, 'sipjs-page-entry.ts'), join(here, '../../../../test/support/sip/sipjs-page-entry.ts')].find((path) => existsSync(path));
  return serveBundledPage({ entry: entry ?? join(here, 'sipjs-page-entry.ts'), title: 'SIP.js softphone', scriptName: 'sipjs-phone.js' });
}
