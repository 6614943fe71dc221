// Tests run the sources, but some start the real `switchboard` command (bin/ runs dist/), and every
// page test needs the SDK and demo page bundles in dist/web: build both once before any test runs.
import { execFileSync } from 'node:child_process';
import { buildWeb } from '../../scripts/build-web.mjs';

export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  await buildWeb();
}
