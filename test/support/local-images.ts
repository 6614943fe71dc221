import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

// Container images built on a machine that reaches no image registry, shared
// by the image test (buildah) and the compose test (podman): both engines are
// rootful here and share one image store (/var/lib/containers/storage), so a
// base made once serves both.

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/**
 * The local stand-in for node:20-bookworm-slim (docker/make-local-base.sh):
 * Debian bookworm from debootstrap with this machine's Node copied in. Cached
 * in the image store under a name that changes with this machine's Node.
 */
export const LOCAL_BASE = `localhost/switchboard-test-base:bookworm-node${process.versions.node}`;

/**
 * Runs a command to its end and returns its output; throws with the output's
 * tail on failure. It gets its own process group, so a timeout ends it and
 * everything it started (debootstrap, the build steps), and nothing else.
 */
export function runLogged(command: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(output);
      else reject(new Error(`${command} ${args.join(' ')} ${timedOut ? `timed out after ${timeoutMs} ms` : `failed (${code})`}:\n${output.slice(-4000)}`));
    });
  });
}

/** Whether the shared image store holds `name` (asked through buildah, which every image test has). */
export async function imageExists(name: string): Promise<boolean> {
  return run('buildah', ['inspect', '--type', 'image', name], { timeout: 30_000 }).then(
    () => true,
    () => false,
  );
}

/**
 * Makes LOCAL_BASE unless the store has it already (about 100 s the first
 * time). Under a lock: the image and compose tests run side by side and would
 * both make it on a fresh machine; the second one finds it made.
 */
export async function ensureLocalBase(): Promise<string> {
  if (await imageExists(LOCAL_BASE)) return LOCAL_BASE;
  const script = `buildah inspect --type image "$1" >/dev/null 2>&1 || bash "$2" "$1"`;
  await runLogged('flock', ['/tmp/switchboard-local-base.lock', 'sh', '-c', script, 'sh', LOCAL_BASE, join(REPO_ROOT, 'docker/make-local-base.sh')], 300_000);
  return LOCAL_BASE;
}

/**
 * Build flags (buildah bud / podman build) that let docker/Dockerfile's `npm
 * ci` reuse this machine's npm cache (filled by the project's own npm ci) and
 * trust the CAs this machine trusts (a TLS-inspecting proxy's included).
 */
export async function npmCacheBuildArgs(): Promise<string[]> {
  const npmCache = (await run('npm', ['config', 'get', 'cache'], { timeout: 30_000 })).stdout.trim();
  const args = ['--build-arg', 'NPM_CI_FLAGS=--prefer-offline', '--volume', `${npmCache}:/root/.npm`];
  const ca = [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'].find((file) => file && existsSync(file));
  if (ca) args.push('--volume', `${ca}:/run/switchboard-build-ca.crt:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/run/switchboard-build-ca.crt');
  return args;
}
