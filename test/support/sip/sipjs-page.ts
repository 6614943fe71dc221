import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ENTRY = join(dirname(fileURLToPath(import.meta.url)), 'sipjs-page-entry.ts');
const HTML = '<!doctype html><meta charset="utf-8"><title>SIP.js softphone</title><body><script src="sipjs-phone.js"></script></body>';

let bundle: Promise<string> | undefined;

/** SIP.js and sipjs-page-entry.ts as one browser script, built once per test process. */
function sipJsPageScript(): Promise<string> {
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

export interface SipJsPageServer {
  /** `http://127.0.0.1:<port>/`: the page, which loads `sipjs-phone.js` beside it. */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the SIP.js test page from a real HTTP server on loopback: http://127.0.0.1 is a secure
 * context (getUserMedia needs one), and a page Chromium sees as local may open a WebSocket to the
 * gateway on 127.0.0.1 (Local Network Access blocks that from a page it sees as public).
 */
export async function serveSipJsPage(): Promise<SipJsPageServer> {
  const script = await sipJsPageScript();
  const server: Server = createServer((request, response) => {
    const isScript = request.url?.startsWith('/sipjs-phone.js');
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
