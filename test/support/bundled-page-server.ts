import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';

export interface BundledPage {
  /** The TypeScript entry file of the page's script (it bundles its npm library). */
  entry: string;
  title: string;
  /** The script's file name beside the page. */
  scriptName: string;
}

export interface PageServer {
  /** `http://127.0.0.1:<port>/`: the page, which loads its script beside it. */
  url: string;
  close(): Promise<void>;
}

const bundles = new Map<string, Promise<string>>();

/** The entry and what it imports as one browser script, built once per test process. */
function bundleOf(entry: string): Promise<string> {
  let bundle = bundles.get(entry);
  if (!bundle) {
    bundle = build({ entryPoints: [entry], bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2020', logLevel: 'warning' }).then(
      (result) => result.outputFiles[0]!.text,
    );
    bundles.set(entry, bundle);
  }
  return bundle;
}

/**
 * Serves a test page and its bundled script from a real HTTP server on loopback. Playwright's
 * page.route would need no server, but Chromium then treats the page as public and its Local
 * Network Access checks block WebSockets to 127.0.0.1 (Prosody, the gateway); http://127.0.0.1 is
 * also a secure context, which getUserMedia needs.
 */
export async function serveBundledPage(page: BundledPage): Promise<PageServer> {
  const script = await bundleOf(page.entry);
  const html = `<!doctype html><meta charset="utf-8"><title>${page.title}</title><body><script src="${page.scriptName}"></script></body>`;
  const server: Server = createServer((request, response) => {
    const isScript = request.url?.startsWith(`/${page.scriptName}`);
    response.writeHead(200, { 'content-type': isScript ? 'text/javascript' : 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(isScript ? script : html);
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
