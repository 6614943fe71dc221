import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { SDK_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '../../src/client/protocol-versions.js';
import { PROTOCOL_VERSION } from '../../src/protocol/messages.js';
import { useBrowserPages } from '../support/browser-pages.js';
import { ANCHOR_ON_LOOPBACK, startTestGateway } from '../support/test-gateway.js';

// The SDK as its users get it: `npm pack` of packages/client, unpacked into an
// app's node_modules, type-checked strictly against its declarations, bundled
// by esbuild like any npm dependency, and run in Chromium: the example app
// (examples/echo-call) calls service:echo through a real gateway.

const ROOT = resolve(import.meta.dirname, '../..');
const PACKAGE = join(ROOT, 'packages/client');
const EXAMPLE = join(ROOT, 'examples/echo-call');
const require = createRequire(import.meta.url);

const pages = useBrowserPages();
const work = mkdtempSync(join(tmpdir(), 'switchboard-sdk-package-'));
let gateway: Gateway | undefined;
let server: Server | undefined;

afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  server?.closeAllConnections();
  await new Promise<void>((done) => (server ? server.close(() => done()) : done()));
  server = undefined;
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

interface PackResult {
  filename: string;
  name: string;
  version: string;
  files: { path: string }[];
}

/** `npm pack` as a publisher runs it (prepack builds dist/ first); returns the tarball's path and listing. */
function pack(): PackResult & { tarball: string } {
  const output = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: PACKAGE, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const [result] = JSON.parse(output.slice(output.indexOf('['))) as PackResult[];
  return { ...result!, tarball: join(work, result!.filename) };
}

/** The example app with the packed SDK installed in its node_modules, as `npm install <tarball>` leaves it. */
function exampleAppWith(tarball: string): string {
  const app = join(work, 'app');
  const installed = join(app, 'node_modules/@switchboard/client');
  mkdirSync(installed, { recursive: true });
  for (const file of ['index.html', 'main.ts', 'tsconfig.json']) copyFileSync(join(EXAMPLE, file), join(app, file));
  execFileSync('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  return app;
}

async function serve(folder: string): Promise<string> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.map': 'application/json' };
  server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const file = resolve(folder, `.${path === '/' ? '/index.html' : path}`);
    try {
      if (!file.startsWith(folder)) throw new Error('outside');
      const body = readFileSync(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      response.end(body);
    } catch {
      response.writeHead(404);
      response.end();
    }
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the SDK package (packages/client) and the example app', () => {
  it('packs to an ES module with types, README and changelog, and says which protocol it speaks', () => {
    const packed = pack();
    const pkg = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as { version: string; switchboard: { protocolVersions: number[] }; exports: Record<string, unknown> };
    expect(packed.name).toBe('@switchboard/client');
    expect(packed.version).toBe(SDK_VERSION);
    const files = packed.files.map((file) => file.path).sort();
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'dist/switchboard.js', 'dist/types/client/index.d.ts', 'dist/types/protocol/messages.d.ts']));
    // Nothing but the built module, its map, its declarations and the docs: no sources, no tests.
    expect(files.filter((file) => !/^(package\.json|README\.md|CHANGELOG\.md|dist\/switchboard\.js(\.map)?|dist\/types\/.*\.d\.ts)$/.test(file))).toEqual([]);
    expect(pkg.switchboard.protocolVersions).toEqual([...SUPPORTED_PROTOCOL_VERSIONS]);
    expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(PROTOCOL_VERSION);
    expect(readFileSync(join(PACKAGE, 'CHANGELOG.md'), 'utf8')).toContain(`## ${SDK_VERSION}`);
  });

  it('an app imports it through a bundler with its types, and calls service:echo with it in Chromium', async () => {
    const app = exampleAppWith(pack().tarball);
    // Strict type check of the app against the package's declarations only (skipLibCheck off, no @types).
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')], { cwd: app, stdio: 'inherit' });
    const bundled = await build({ entryPoints: [join(app, 'main.ts')], bundle: true, format: 'esm', target: 'es2020', outfile: join(app, 'dist/main.js'), absWorkingDir: app, metafile: true, logLevel: 'warning' });
    const inputs = Object.keys(bundled.metafile.inputs);
    expect(inputs).toContain('node_modules/@switchboard/client/dist/switchboard.js');
    expect(inputs.filter((input) => input.includes('src/client'))).toEqual([]);

    gateway = await startTestGateway(ANCHOR_ON_LOOPBACK);
    const base = await serve(app);
    const context = await pages.browser().newContext();
    const page = await context.newPage();
    page.on('pageerror', (error) => console.error(`[page error] ${error.message}`));
    await page.goto(`${base}/index.html?gateway=ws://127.0.0.1:${gateway.httpPort}/ws`);
    await expect.poll(() => page.textContent('#sdk')).toBe(`${SDK_VERSION} (protocol ${PROTOCOL_VERSION})`);
    await page.click('#call');
    await expect.poll(() => page.textContent('#state'), { timeout: 15_000 }).toBe('active');
    expect(await page.textContent('#path')).toBe('anchor');
    await expect.poll(async () => Number(await page.textContent('#packets')), { timeout: 10_000 }).toBeGreaterThan(50);
    expect(await page.textContent('#codec')).toMatch(/^opus\/48000/i);
    await page.click('#hangup');
    await expect.poll(() => page.textContent('#state')).toBe('ended (hangup)');
    expect(gateway.calls.size).toBe(0);
    await context.close();
  }, 90_000);
});
