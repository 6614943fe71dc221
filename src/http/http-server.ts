import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../logging/logger.js';
import { MalformedUrlPathError, type StaticFiles } from './static-files.js';

/** A route the composition root adds (health, metrics, admin API...). */
export type HttpRoute = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

export interface HttpServerOptions {
  routes: Record<string, HttpRoute>;
  /** Routes for every path under a prefix, e.g. `/admin/`. */
  prefixRoutes?: Record<string, HttpRoute>;
  staticFiles: StaticFiles;
  /** WebSocket upgrades; returns false when the path is not handled. */
  onUpgrade: (request: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer) => boolean;
  /** Longest time to receive a request's headers; a slow sender (slowloris) is cut off after it. */
  headersTimeoutMs: number;
  logger: Logger;
}

/** One HTTP server for the page, the SDK, the WebSocket and the operations endpoints. */
export function createHttpServer(options: HttpServerOptions): Server {
  // Node's defaults let a client trickle headers for a minute and a request for five minutes, and
  // check those deadlines only every 30 s: a slowloris client held a socket for that long.
  const timeouts = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: Math.max(options.headersTimeoutMs, 30_000),
    connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs),
  };
  const server = createServer(timeouts, (request, response) => {
    handle(request, response, options).catch((error: unknown) => {
      options.logger.error({ err: error, url: request.url }, 'http handler failed');
      if (!response.headersSent) sendJson(response, 500, { error: 'internal' });
      else response.destroy();
    });
  });
  server.on('upgrade', (request, socket, head) => {
    if (!options.onUpgrade(request, socket, head)) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    // Ended and then destroyed: a client that never reads or closes must not keep the socket half-open.
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
    else socket.destroy();
  });
  return server;
}

async function handle(request: IncomingMessage, response: ServerResponse, options: HttpServerOptions): Promise<void> {
  const path = (request.url ?? '/').split('?', 1)[0]!;
  const route = options.routes[path];
  if (route) return route(request, response);
  for (const [prefix, prefixRoute] of Object.entries(options.prefixRoutes ?? {})) {
    if (path.startsWith(prefix)) return prefixRoute(request, response);
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendJson(response, 405, { error: 'method not allowed' });
  const file = await readStaticFile(options.staticFiles, path);
  if (file === 'malformed-path') return sendJson(response, 400, { error: 'malformed percent-encoding in the path' });
  if (!file) return sendJson(response, 404, { error: 'not found' });
  response.writeHead(200, {
    'content-type': file.contentType,
    'content-length': file.body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  response.end(request.method === 'HEAD' ? undefined : file.body);
}

async function readStaticFile(files: StaticFiles, path: string): Promise<Awaited<ReturnType<StaticFiles['read']>> | 'malformed-path'> {
  try {
    return await files.read(path);
  } catch (error) {
    if (error instanceof MalformedUrlPathError) return 'malformed-path';
    throw error;
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}
