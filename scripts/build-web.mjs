// Builds the browser side into dist/web: the SDK bundle (switchboard.js), the
// demo softphone (app.js) and its static files. The gateway serves that folder.
//
//   node scripts/build-web.mjs            # -> dist/web
//   import { buildWeb } from './build-web.mjs'; await buildWeb('/tmp/out');

import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const STATIC_FILES = ['index.html', 'style.css'];

/** Bundles the SDK and the demo page into `outdir` (relative paths are relative to the repository root). */
export async function buildWeb(outdir = 'dist/web') {
  const out = isAbsolute(outdir) ? outdir : join(root, outdir);
  await mkdir(out, { recursive: true });
  const common = {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    sourcemap: true,
    logLevel: 'warning',
    absWorkingDir: root,
  };
  await Promise.all([
    build({ ...common, entryPoints: [join(root, 'src/client/index.ts')], outfile: join(out, 'switchboard.js') }),
    build({ ...common, entryPoints: [join(root, 'src/web/app.ts')], outfile: join(out, 'app.js') }),
    ...STATIC_FILES.map((file) => copyFile(join(root, 'src/web', file), join(out, file))),
  ]);
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  buildWeb(process.argv[2]).then(
    (out) => console.log(`built ${out}`),
    (error) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
