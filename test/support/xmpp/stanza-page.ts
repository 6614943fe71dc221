import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'stanza-page-entry.ts');
const HTML = '<!doctype html><meta charset="utf-8"><title>StanzaJS peer</title><body><script src="stanza-peer.js"></script></body>';

let bundle: Promise<string> | undefined;

/** StanzaJS and stanza-page-entry.ts as one browser script, built once per test process. */
function stanzaPageScript(): Promise<string> {
  bundle ??= build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'warning',
  }).then((result) => result.outputFiles[0]!.text);
  return bundle;
}

export interface StanzaPageServer {
  /** `http://127.0.0.1:<port>/`: the page, which loads `stanza-peer.js` beside it. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the StanzaJS test page from a real HTTP server on loopback. Playwright's page.route would
 * need no server, but Chromium then treats the page as public and its Local Network Access checks
 * block the WebSocket to Prosody on 127.0.0.1; http://127.0.0.1 is also a secure context, which
 * getUserMedia needs.
 */
export async function serveStanzaPage(): Promise<StanzaPageServer> {
  const script = await stanzaPageScript();
  const server: Server = createServer((request, response) => {
    const isScript = request.url?.startsWith('/stanza-peer.js');
    response.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(isScript ? script : HTML);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
