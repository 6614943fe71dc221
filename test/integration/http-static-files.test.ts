import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.js';
import { startTestGateway } from '../support/test-gateway.js';

// The demo page and SDK are served from one folder over HTTP; paths that are
// not files there get 404, and paths that cannot even be decoded get 400.

let gateway: Gateway;
let webRoot: string;

beforeAll(async () => {
  webRoot = mkdtempSync(join(tmpdir(), 'switchboard-web-'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>demo</title>');
  writeFileSync(join(webRoot, 'app.js'), 'console.log("demo");');
  gateway = await startTestGateway({}, { webRoot });
});

afterAll(async () => {
  await gateway?.stop();
  rmSync(webRoot, { recursive: true, force: true });
});

const get = (path: string) => fetch(`http://127.0.0.1:${gateway.httpPort}${path}`);

describe('static files over HTTP', () => {
  it('serves the files of the web folder, percent-encoded names included', async () => {
    expect((await get('/')).status).toBe(200);
    expect(await (await get('/%61pp.js')).text()).toBe('console.log("demo");');
  });

  it('answers a malformed percent-encoding with 400, not 500 (RFC 3986 section 2.1)', async () => {
    for (const path of ['/%E0%A4%A', '/%zz', '/%', '/app.js%']) {
      const response = await get(path);
      expect(response.status, path).toBe(400);
      expect(await response.json()).toEqual({ error: 'malformed percent-encoding in the path' });
    }
  });

  it('never leaves the folder', async () => {
    for (const path of ['/..%2f..%2fetc%2fpasswd', '/%2e%2e/%2e%2e/etc/passwd', '/nothing.js']) expect((await get(path)).status, path).toBe(404);
  });
});
