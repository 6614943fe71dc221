import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveBundledPage, type PageServer } from '../bundled-page-server.js';

export type StanzaPageServer = PageServer;

/** The StanzaJS peer page (stanza-page-entry.ts with StanzaJS bundled), served on loopback. */
export function serveStanzaPage(): Promise<StanzaPageServer> {
  return serveBundledPage({ entry: join(dirname(fileURLToPath(import.meta.url)), 'stanza-page-entry.ts'), title: 'StanzaJS peer', scriptName: 'stanza-peer.js' });
}
