// Builds the browser SDK package (packages/client) from src/client: one ES
// module without dependencies (dist/switchboard.js, with its source map) and
// the type declarations (dist/types, the SDK's and the protocol's). `npm pack`
// in packages/client runs it (prepack).
//
//   node scripts/build-client-package.mjs

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'packages/client');
const require = createRequire(import.meta.url);

const { version } = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const declared = /SDK_VERSION = '([^']+)'/.exec(readFileSync(join(root, 'src/client/protocol-versions.ts'), 'utf8'))?.[1];
if (declared !== version) {
  throw new Error(`src/client/protocol-versions.ts says SDK_VERSION ${declared}, packages/client/package.json ${version}: make them equal`);
}

rmSync(join(pkgDir, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src/client/index.ts')],
  outfile: join(pkgDir, 'dist/switchboard.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  sourcemap: true,
  sourcesContent: true,
  logLevel: 'warning',
  absWorkingDir: root,
  banner: { js: `/* @switchboard/client ${version}, MIT license */` },
});
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(pkgDir, 'tsconfig.json')], { stdio: 'inherit', cwd: root });
console.log(`built ${join(pkgDir, 'dist')}`);
