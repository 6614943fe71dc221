import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startProcess, type RunningProcess } from './child-process.js';

const run = promisify(execFile);

/**
 * Rootful podman as a Docker-compatible engine for one test file
 * (../shared/PEERS.md, "Containers on these machines"): its own
 * containers.conf (runc, since crun refuses this machine's hybrid cgroups; no
 * default rlimits, since the engine may not raise any here), and its own
 * `podman system service` on a socket in the test's directory, which
 * docker-compose talks to as DOCKER_HOST. `stop()` ends that service by its
 * PID; the containers, networks and images the test made are its own to
 * remove.
 */
export class PodmanEngine {
  private constructor(
    /** CONTAINERS_CONF and DOCKER_HOST set: the environment for podman and docker-compose. */
    readonly env: NodeJS.ProcessEnv,
    readonly socketPath: string,
    readonly service: RunningProcess,
  ) {}

  static async start(dir: string): Promise<PodmanEngine> {
    const conf = join(dir, 'containers.conf');
    writeFileSync(conf, '[containers]\ndefault_ulimits = []\n\n[engine]\nruntime = "runc"\n');
    const socketPath = join(dir, 'podman.sock');
    const env = { ...process.env, CONTAINERS_CONF: conf, DOCKER_HOST: `unix://${socketPath}` };
    const service = startProcess('podman', ['system', 'service', '--time=0', `unix://${socketPath}`], { env });
    const engine = new PodmanEngine(env, socketPath, service);
    // Bounded: the service answers /_ping within a second or two once its socket exists.
    for (let attempt = 0; attempt < 100; attempt++) {
      if (service.child.exitCode !== null) break;
      if ((await engine.ping().catch(() => 0)) === 200) return engine;
      await sleep(100);
    }
    await service.stop();
    throw new Error(`podman system service did not answer on ${socketPath}: ${service.output().slice(-2000)}`);
  }

  /** The Docker API's GET /_ping, as docker-compose sends it first. */
  ping(): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: '/_ping', timeout: 2000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.once('error', reject);
      req.once('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  /** Runs one podman command with this engine's configuration; resolves with its stdout. */
  async podman(args: string[], timeoutMs = 60_000): Promise<string> {
    const { stdout } = await run('podman', args, { env: this.env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  }

  /** Exit code of a podman command (healthcheck run and the like), without throwing. */
  podmanStatus(args: string[], timeoutMs = 60_000): Promise<number> {
    return run('podman', args, { env: this.env, timeout: timeoutMs }).then(
      () => 0,
      (error: { code?: number }) => (typeof error.code === 'number' ? error.code : -1),
    );
  }

  async stop(): Promise<void> {
    await this.service.stop();
  }
}
