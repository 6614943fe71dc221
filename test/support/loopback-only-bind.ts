import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
// Beside this file in the sources; from dist/test/support (the benchmarks), back in the sources.
const SOURCE = [join(HERE, 'loopback-only-bind.c'), join(HERE, '../../../test/support/loopback-only-bind.c')].find((path) => existsSync(path)) ?? join(HERE, 'loopback-only-bind.c');

/**
 * Path of the compiled loopback-only-bind.c (see there for why), built with the system C
 * compiler on first use and cached in the temp dir under a hash of its source. Test files run in
 * parallel workers, so each builds to its own name and renames into place.
 */
export function loopbackOnlyBindLibrary(): string {
  const source = readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).digest('hex').slice(0, 12);
  const library = join(tmpdir(), `switchboard-loopback-only-bind-${hash}.so`);
  if (existsSync(library)) return library;
  const building = `${library}.${process.pid}.tmp`;
  execFileSync('cc', ['-shared', '-fPIC', '-O2', '-o', building, SOURCE, '-ldl'], { stdio: 'pipe' });
  renameSync(building, library);
  return library;
}
