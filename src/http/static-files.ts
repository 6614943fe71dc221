import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/** The folder holding package.json, whether running from src/ (tests) or dist/ (production). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string };
      if (pkg.name === 'switchboard') return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the switchboard package root');
    dir = parent;
  }
}

/** A URL path whose percent-encoding is broken (`/%zz`, RFC 3986 section 2.1): the client's mistake, answered 400. */
export class MalformedUrlPathError extends Error {
  readonly code = 'malformed-path';

  constructor(path: string) {
    super(`malformed percent-encoding in ${JSON.stringify(path.slice(0, 200))}`);
    this.name = 'MalformedUrlPathError';
  }
}

/** Serves the built demo page and SDK bundle (dist/web) read-only, never outside that folder. */
export class StaticFiles {
  readonly root: string;

  constructor(root = join(packageRoot(), 'dist', 'web')) {
    this.root = resolve(root);
  }

  /** The file at `urlPath`, undefined when there is none to serve; throws MalformedUrlPathError for a path that cannot be decoded. */
  async read(urlPath: string): Promise<{ body: Buffer; contentType: string } | undefined> {
    const relative = urlPath === '/' ? 'index.html' : decodePath(urlPath).replace(/^\/+/, '');
    const file = resolve(this.root, relative);
    if (!file.startsWith(this.root + sep)) return undefined;
    const ext = file.slice(file.lastIndexOf('.'));
    const contentType = CONTENT_TYPES[ext];
    if (!contentType) return undefined;
    try {
      return { body: await readFile(file), contentType };
    } catch {
      return undefined;
    }
  }
}

function decodePath(urlPath: string): string {
  try {
    return decodeURIComponent(urlPath);
  } catch {
    throw new MalformedUrlPathError(urlPath);
  }
}
