import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { startProcess, type RunningProcess } from '../support/child-process.js';
import { freePort } from '../support/free-port.js';
import { ensureLocalBase, imageExists, npmCacheBuildArgs, REPO_ROOT as ROOT, runLogged } from '../support/local-images.js';
import { SoftphonePage } from '../support/softphone-page.js';

// Builds docker/Dockerfile for real with buildah (no container engine or
// image registry is needed: the base image is made locally by
// docker/make-local-base.sh from Debian's packages and this machine's Node),
// then runs the built image's own entry point with `buildah run --isolation
// chroot`: inside the image's root filesystem, as the image's user, with the
// image's environment, but on the host's network (so on loopback here) and
// without a container engine's namespaces, cgroups or port publishing.
// A browser then calls service:echo through it, which needs the image's
// node-datachannel native module, its page bundle and its port settings.

const run = promisify(execFile);
const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = [
  process.platform !== 'linux' && 'Linux',
  process.getuid?.() !== 0 && 'root',
  ...['buildah', 'debootstrap'].filter((tool) => !has(tool)),
].filter(Boolean);
// A missing tool fails the test (the suite never skips for a missing peer): scripts/install-peers.sh installs them.
const why = '';

/**
 * Media port ranges for the run, set the way an operator changes the image's
 * (its SWITCHBOARD_MEDIA__* variables). Not the image's own 20000-20299:
 * other test files run gateways on this same host network at the same time,
 * and their RTP allocators start at 20000.
 */
const MEDIA = { rtpMin: 17000, rtpMax: 17199, iceMin: 17200, iceMax: 17299 };

const IMAGE = `localhost/switchboard-test:${process.pid}-${randomBytes(3).toString('hex')}`;

async function buildah(args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await run('buildah', args, { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

interface ImageConfig {
  User: string;
  Env: string[];
  Entrypoint: string[];
  Cmd: string[];
  WorkingDir: string;
  ExposedPorts: Record<string, object>;
  Healthcheck?: { Test: string[] };
}

/** PIDs of a process's descendants (from /proc). */
function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const child of children.get(p) ?? []) {
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}

/**
 * The gateway's node process under `buildah run`: the descendant running
 * bin/switchboard.js with the image's node binary, chrooted into the image.
 */
function gatewayNode(runPid: number): { pid: number; root: string; exe: string } | undefined {
  for (const pid of descendants(runPid)) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith('node') || !argv.includes('bin/switchboard.js')) continue;
      return { pid, root: readlinkSync(`/proc/${pid}/root`), exe: readlinkSync(`/proc/${pid}/exe`) };
    } catch {
      // ended meanwhile
    }
  }
  return undefined;
}

/** Local UDP ports of the sockets a process holds. */
function udpPorts(pid: number): number[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode) inodes.add(inode);
    } catch {
      // closed meanwhile
    }
  }
  const ports: number[] = [];
  for (const table of ['udp', 'udp6']) {
    const lines = readFileSync(`/proc/${pid}/net/${table}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      if (inodes.has(fields[9]!)) ports.push(parseInt(fields[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}

/** Local UDP ports bound by anyone in this network namespace. */
function hostUdpPorts(): number[] {
  return ['udp', 'udp6'].flatMap((table) =>
    readFileSync(`/proc/net/${table}`, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => parseInt(line.trim().split(/\s+/)[1]!.split(':')[1]!, 16)),
  );
}

/** One STUN Binding request (RFC 5389) over UDP; resolves with the response's message type. */
function stunBinding(port: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt16BE(0, 2);
    request.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(request, 8);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no STUN response within 3 s'));
    }, 3000);
    socket.once('message', (message) => {
      clearTimeout(timer);
      socket.close();
      expect(message.subarray(8, 20)).toEqual(request.subarray(8, 20));
      resolvePromise(message.readUInt16BE(0));
    });
    socket.send(request, port, '127.0.0.1');
  });
}

/** A SIP OPTIONS request over UDP (RFC 3261); resolves with the response's status line. */
function sipOptions(port: number): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const socket = createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no SIP response within 3 s'));
    }, 3000);
    socket.once('message', (message) => {
      clearTimeout(timer);
      socket.close();
      resolvePromise(message.toString().split('\r\n')[0]!);
    });
    socket.bind(0, '127.0.0.1', () => {
      const local = socket.address().port;
      const tag = randomBytes(4).toString('hex');
      const request = [
        `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:${local};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
        'Max-Forwards: 70',
        `From: <sip:probe@127.0.0.1>;tag=${tag}`,
        `To: <sip:127.0.0.1:${port}>`,
        `Call-ID: ${randomBytes(8).toString('hex')}@127.0.0.1`,
        'CSeq: 1 OPTIONS',
        `Contact: <sip:probe@127.0.0.1:${local}>`,
        'Accept: application/sdp',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
      socket.send(request, port, '127.0.0.1');
    });
  });
}

describe(`docker/Dockerfile built with buildah and run from the image${why}`, () => {
  it('has what the build needs: root, buildah and debootstrap', () => {
    expect(missing, 'run as root after scripts/install-peers.sh').toEqual([]);
  });

  let container: string | undefined;
  let rootfs = '';
  let config: ImageConfig;
  let gateway: RunningProcess | undefined;
  let httpPort = 0;
  let stunPort = 0;
  let sipPort = 0;
  let browser: TestBrowser | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const base = await ensureLocalBase();
    const args = ['bud', '--isolation', 'chroot', '--format', 'docker', '--build-arg', `BASE=${base}`, ...(await npmCacheBuildArgs())];
    args.push('-f', 'docker/Dockerfile', '-t', IMAGE, ROOT);
    await runLogged('buildah', args, 240_000);

    const inspected = JSON.parse(await buildah(['inspect', '--type', 'image', IMAGE])) as { Docker: { config: ImageConfig } };
    config = inspected.Docker.config;
    container = await buildah(['from', '--name', `switchboard-test-${process.pid}-${randomBytes(3).toString('hex')}`, IMAGE]);
    rootfs = await buildah(['mount', container]);
  }, 420_000);

  afterAll(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
    await browser?.close().catch(() => {});
    if (gateway) {
      const inside = descendants(gateway.child.pid!);
      await gateway.stop();
      // buildah ends its child when it ends; make sure of it, by PID, for what we started only.
      for (const pid of inside) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    if (container) {
      await buildah(['umount', container]).catch(() => {});
      await buildah(['rm', container]).catch(() => {});
    }
    if (await imageExists(IMAGE)) await buildah(['rmi', IMAGE]).catch(() => {});
  }, 60_000);

  it('the image has the user, ports, health check and entry point of the Dockerfile', () => {
    expect(config.User).toBe('1000:1000');
    expect(Object.keys(config.ExposedPorts).sort()).toEqual(
      ['20000-20199/udp', '20200-20299/udp', '3478/udp', '5060/tcp', '5060/udp', '5061/tcp', '8080/tcp'].sort(),
    );
    expect(config.Healthcheck?.Test[0]).toBe('CMD');
    expect(config.Healthcheck?.Test.join(' ')).toContain('/healthz');
    expect(config.Entrypoint).toEqual(['node', 'bin/switchboard.js']);
    expect(config.Cmd).toEqual(['--config', '/etc/switchboard/switchboard.yaml']);
    expect(config.WorkingDir).toBe('/app');
    expect(config.Env).toEqual(expect.arrayContaining(['SWITCHBOARD_MEDIA__RTP_PORT_MIN=20000', 'SWITCHBOARD_MEDIA__ICE_PORT_MAX=20299']));
  });

  it('holds the production dependencies with the native WebRTC module, the built page, the config, and a node user', () => {
    const app = join(rootfs, 'app');
    expect(existsSync(join(app, `node_modules/@node-datachannel/${process.platform}-${process.arch}-gnu`))).toBe(true);
    for (const dependency of ['ws', 'zod', 'yaml', 'pino', 'node-datachannel']) expect(existsSync(join(app, 'node_modules', dependency)), dependency).toBe(true);
    for (const dev of ['typescript', 'vitest', 'esbuild', 'playwright-core']) expect(existsSync(join(app, 'node_modules', dev)), dev).toBe(false);
    expect(existsSync(join(app, 'dist/src/cli.js'))).toBe(true);
    expect(existsSync(join(app, 'dist/web/index.html'))).toBe(true);
    expect(existsSync(join(app, 'src'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc/switchboard/switchboard.yaml'))).toBe(true);
    expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^node:x:1000:1000:/m);
    // The application files belong to root: the gateway's user cannot change them.
    expect(statSync(join(app, 'dist/src/cli.js')).uid).toBe(0);
  });

  it('runs as uid 1000 from its entry point on loopback: /healthz, /readyz, STUN, SIP, and its own HEALTHCHECK', async () => {
    httpPort = await freePort();
    stunPort = await freePort();
    sipPort = await freePort();
    const env = {
      SWITCHBOARD_SERVER__HOST: '127.0.0.1',
      SWITCHBOARD_SERVER__PORT: String(httpPort),
      SWITCHBOARD_STUN__HOST: '127.0.0.1',
      SWITCHBOARD_STUN__PORT: String(stunPort),
      SWITCHBOARD_SIP__HOST: '127.0.0.1',
      SWITCHBOARD_SIP__PORT: String(sipPort),
      // Media and ICE on loopback only, in ranges no other test uses.
      SWITCHBOARD_MEDIA__RTP_HOST: '127.0.0.1',
      SWITCHBOARD_MEDIA__RTP_PORT_MIN: String(MEDIA.rtpMin),
      SWITCHBOARD_MEDIA__RTP_PORT_MAX: String(MEDIA.rtpMax),
      SWITCHBOARD_MEDIA__ICE_PORT_MIN: String(MEDIA.iceMin),
      SWITCHBOARD_MEDIA__ICE_PORT_MAX: String(MEDIA.iceMax),
      SWITCHBOARD_MEDIA__ICE_BIND_ADDRESS: '127.0.0.1',
      SWITCHBOARD_ICE__CANDIDATE_NETWORKS: '[127.0.0.0/8, "::1"]',
    };
    const envArgs = Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`]);
    gateway = startProcess('buildah', ['run', '--isolation', 'chroot', ...envArgs, container!, '--', ...config.Entrypoint, ...config.Cmd]);
    await gateway.waitFor(/switchboard gateway listening/, 30_000);

    const health = await fetch(`http://127.0.0.1:${httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${httpPort}/`)).headers.get('content-type')).toContain('text/html');
    expect(await stunBinding(stunPort)).toBe(0x0101);
    expect(await sipOptions(sipPort)).toMatch(/^SIP\/2\.0 \d{3} /);

    // The gateway inside is the image's node, in the image's root, running as the image's user.
    const node = gatewayNode(gateway.child.pid!);
    expect(node, 'the node process under buildah run').toBeDefined();
    expect(node!.root).not.toBe('/');
    expect(node!.exe).toBe(`${node!.root}/usr/local/bin/node`);
    expect(existsSync(`/proc/${node!.pid}/root/app/dist/src/cli.js`)).toBe(true);
    expect(readFileSync(`/proc/${node!.pid}/status`, 'utf8')).toMatch(/^Uid:\s+1000\s/m);

    // The HEALTHCHECK command as the engine would run it: passes, and fails on a port nothing serves.
    const healthcheck = config.Healthcheck!.Test.slice(1);
    const probe = (port: number) =>
      run('buildah', ['run', '--isolation', 'chroot', '--env', `SWITCHBOARD_SERVER__PORT=${port}`, container!, '--', ...healthcheck], { timeout: 30_000 }).then(
        () => 0,
        (error: { code?: number }) => error.code ?? -1,
      );
    expect(await probe(httpPort)).toBe(0);
    expect(await probe(await freePort())).toBe(1);
  }, 90_000);

  it('a browser calls service:echo through it and hears itself; media stays in the configured ranges', async () => {
    expect(gateway, 'the gateway from the previous test').toBeDefined();
    browser = await launchChromium();
    const context = await browser.newContext();
    contexts.push(context);
    const page = await SoftphonePage.open(context, `http://127.0.0.1:${httpPort}`);
    await page.login('alice');
    await page.dial('service:echo');
    try {
      await page.waitForState('active', 20_000);
    } catch (error) {
      const reason = await page.endReason().catch(() => null);
      const busy = hostUdpPorts().filter((p) => p >= MEDIA.rtpMin && p <= MEDIA.iceMax);
      throw new Error(
        `call not active (end reason ${reason}); UDP ports busy in the media ranges: ${busy.join(' ')}; gateway log:\n${gateway!.output().slice(-3000)}`,
        { cause: error },
      );
    }
    const heard = await page.inboundAudio(2000);
    expect(heard.packetsReceived).toBeGreaterThan(50);
    expect(heard.totalAudioEnergy).toBeGreaterThan(0.001);

    // The anchor's sockets are in the configured ranges: RTP and ICE each in its own.
    const node = gatewayNode(gateway!.child.pid!)!.pid;
    const ports = udpPorts(node);
    expect(ports, `UDP ports ${ports.join(' ')}`).toContain(stunPort);
    expect(ports, `UDP ports ${ports.join(' ')}`).toContain(sipPort);
    expect(ports.some((p) => p >= MEDIA.rtpMin && p <= MEDIA.rtpMax), `RTP in ${ports.join(' ')}`).toBe(true);
    expect(ports.some((p) => p >= MEDIA.iceMin && p <= MEDIA.iceMax), `ICE in ${ports.join(' ')}`).toBe(true);
    expect(ports.filter((p) => p !== stunPort && p !== sipPort).every((p) => p >= MEDIA.rtpMin && p <= MEDIA.iceMax), `media outside the ranges: ${ports.join(' ')}`).toBe(true);

    await page.hangup();
    await page.waitForState('ended');
  }, 60_000);
});
