import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/logging/logger.js';
import { WebRtcEndpoint } from '../../src/media/webrtc-endpoint.js';
import type { IceCandidate } from '../../src/protocol/messages.js';
import type { BrowserContext } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { WebParty } from '../support/cluster/web-party.js';
import { ensureLocalBase, imageExists, npmCacheBuildArgs, REPO_ROOT, runLogged } from '../support/local-images.js';
import { PodmanEngine } from '../support/podman-engine.js';
import { SoftphonePage } from '../support/softphone-page.js';
import { startBaresip, type Baresip } from '../support/sip/baresip.js';
import { exchangeUdp } from '../support/sip/raw-sip-client.js';
import { rawRequest } from '../support/sip/raw-sip.js';
import { allocatePort, udpPortFree } from '../support/sip/ports.js';
import { PCMU } from '../support/webrtc-test-peer.js';
import { WsTestClient } from '../support/ws-test-client.js';
import { measurePcmu, sendTone, waitConnected } from '../support/xmpp/xmpp-lab.js';

// The compose stack as users run it, under a real container engine: rootful
// podman (runc) behind its Docker API socket, driven by docker-compose 1.29
// (../shared/PEERS.md, "Containers on these machines"). The gateway image is
// built with podman from docker/Dockerfile on a local Debian + Node base;
// coturn, Redis, Kamailio and Prosody are local stand-ins built FROM that base
// with Debian's packages (test/docker/*.Dockerfile), since no registry is
// reachable. The sip and xmpp profiles run too.
//
// The stack is docker/compose.yaml + docker/compose.bridge.yaml (the shipped
// bridge-network variant: the gateway on a bridge, its ports published) +
// test/docker/compose.podman.yaml (only what this machine needs: local image
// names, the test's own network in 198.18.0.0/15, ulimits the engine can
// grant). docker/.env is written by the test the way a user writes it: the
// public address is 127.0.0.1, where the ports are published.
//
// So every packet from the test's parties (on the host's loopback) reaches
// the gateway through the bridge's NAT: DNAT on the published port, source
// rewritten to the bridge's gateway address. A call to service:echo through it
// carries a tone both ways. coturn runs on the test network too (the override
// publishes its TURN port on 127.0.0.1), so two relay-only Chromium pages call
// each other through it with coturn's relay address in the test subnet.

const has = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
const missing = [
  process.platform !== 'linux' && 'Linux',
  process.getuid?.() !== 0 && 'root',
  ...['podman', 'runc', 'docker-compose', 'buildah', 'debootstrap'].filter((tool) => !has(tool)),
].filter(Boolean);

const RUN = `${process.pid}-${randomBytes(3).toString('hex')}`;
const PROJECT = `sbcompose${RUN.replace(/-/g, '')}`;
const NETWORK = `sbcompose-${RUN}`;
const GATEWAY_IMAGE = `localhost/switchboard-compose-test:${RUN}`;
const ENV_FILE = join(REPO_ROOT, 'docker/.env');
const ENV_MARKER = '# written by test/integration/compose-stack.test.ts, removed when it ends';
const COMPOSE_FILES = ['docker/compose.yaml', 'docker/compose.bridge.yaml', 'test/docker/compose.podman.yaml'];
/** The lab's profiles: Kamailio (sip) and Prosody (xmpp) beside the default gateway, coturn and Redis. */
const PROFILES = ['sip', 'xmpp'];
/** Media ports published one by one: few of them (5 RTP pairs, 10 ICE ports), clear of 17000-17299 (docker-image.test.ts) and 20000+ (other gateways' RTP). */
const MEDIA_BLOCK = 20;
/** compose.yaml's own ports: redis publishes 127.0.0.1:6379; Kamailio and Prosody listen on the host's network; coturn is on the test network, its TURN port published on 127.0.0.1 by the override. */
const REDIS_PORT = 6379;
const TURN_PORT = 3479;
const KAMAILIO_PORT = 5070;
const PROSODY_PORT = 5222;

/** A stand-in image from test/docker/NAME.Dockerfile, cached under a tag that changes with the file and the base. */
function standInImage(name: string, base: string): string {
  const hash = createHash('sha256').update(readFileSync(join(REPO_ROOT, `test/docker/${name}.Dockerfile`))).update(base).digest('hex').slice(0, 12);
  return `localhost/switchboard-test-${name}:${hash}`;
}

/** The gateway's warning when clients reach it at an address its media does not announce (src/media/announced-address-check.ts). */
const MISMATCH_WARNING = 'through NAT or a port forward';

/** Host candidates the gateway trickled to a party (the candidate lines). */
function trickledCandidates(party: WebParty): string[] {
  return party.client.frames
    .filter((frame): frame is Extract<typeof frame, { type: 'candidate' }> => frame.type === 'candidate')
    .map((frame) => (frame.candidate as IceCandidate | null)?.candidate)
    .filter((line): line is string => Boolean(line));
}

/** A metric's value summed over its series, from a /metrics text. */
function metricSum(metrics: string, name: string, where: (line: string) => boolean = () => true): number {
  return metrics
    .split('\n')
    .filter((line) => (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && where(line))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

/** A /24 in the benchmarking range (198.18.0.0/15) that no podman network and no route on this host uses. */
async function freeSubnet(engine: PodmanEngine): Promise<string> {
  const taken = (await engine.podman(['network', 'ls', '--format', '{{range .Subnets}}{{.Subnet}} {{end}}'])) + spawnSync('ip', ['-4', 'route']).stdout.toString();
  for (let attempt = 0; attempt < 50; attempt++) {
    const third = 100 + Math.floor(Math.random() * 150);
    if (!taken.includes(`198.18.${third}.`)) return `198.18.${third}.0/24`;
  }
  throw new Error('no free /24 in 198.18.0.0/15');
}

/** MEDIA_BLOCK consecutive UDP ports free on loopback, between 15000 and 16999. */
async function freeMediaBlock(): Promise<number> {
  for (let attempt = 0; attempt < 30; attempt++) {
    const start = 15000 + 2 * Math.floor(Math.random() * ((2000 - MEDIA_BLOCK) / 2));
    let free = true;
    for (let port = start; port < start + MEDIA_BLOCK && free; port++) free = await udpPortFree(port);
    if (free) return start;
  }
  throw new Error(`no ${MEDIA_BLOCK} free UDP ports between 15000 and 16999`);
}

/** One STUN Binding request (RFC 5389) over UDP; resolves with the response type and its XOR-MAPPED-ADDRESS. */
function stunBinding(port: number): Promise<{ type: number; mapped?: string }> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0);
    request.writeUInt32BE(0x2112a442, 4);
    randomBytes(12).copy(request, 8);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no STUN response from 127.0.0.1:${port} within 3 s`));
    }, 3000);
    socket.once('message', (message) => {
      clearTimeout(timer);
      socket.close();
      let mapped: string | undefined;
      // Attributes after the 20-byte header, each padded to 4 bytes; XOR-MAPPED-ADDRESS is 0x0020 (RFC 5389 section 15.2).
      for (let at = 20; at + 4 <= message.length; ) {
        const type = message.readUInt16BE(at);
        const length = message.readUInt16BE(at + 2);
        if (type === 0x0020 && message[at + 5] === 0x01) {
          const address = message.readUInt32BE(at + 8) ^ 0x2112a442;
          mapped = [address >>> 24, (address >>> 16) & 255, (address >>> 8) & 255, address & 255].join('.');
        }
        at += 4 + Math.ceil(length / 4) * 4;
      }
      resolve({ type: message.readUInt16BE(0), mapped });
    });
    socket.send(request, port, '127.0.0.1');
  });
}

/** Opens an XMPP client stream (RFC 6120 section 4.2) and returns what the server says until its stream features. */
function xmppStreamFeatures(port: number, domain: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setTimeout(5000, () => socket.destroy(new Error(`no stream features within 5 s: ${text}`)));
    socket.once('error', reject);
    socket.once('connect', () =>
      socket.write(`<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`),
    );
    socket.on('data', (data) => {
      text += data.toString();
      if (!text.includes('</stream:features>')) return;
      socket.end('</stream:stream>');
      resolve(text);
    });
  });
}

/** A Redis PING over TCP (RESP inline command); resolves with the reply line. */
function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(3000, () => socket.destroy(new Error('no Redis reply within 3 s')));
    socket.once('error', reject);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.end();
      resolve(data.toString().trim());
    });
  });
}

describe('docker/compose.yaml under podman + docker-compose, the gateway on a bridge network behind NAT', () => {
  it('has what it needs: root, podman, runc, docker-compose, buildah and debootstrap', () => {
    expect(missing, 'run as root after scripts/install-peers.sh').toEqual([]);
  });

  let dir = '';
  let engine: PodmanEngine | undefined;
  let networkCreated = false;
  let envWritten = false;
  let subnet = '';
  const ports = { http: 0, stun: 0, sip: 0, rtpMin: 0, rtpMax: 0, iceMin: 0, iceMax: 0 };
  const timings: Record<string, number> = {};
  const parties: WebParty[] = [];
  let phone: Baresip | undefined;
  let browser: TestBrowser | undefined;
  let context: BrowserContext | undefined;

  const compose = (args: string[], timeoutMs = 120_000) =>
    runLogged('docker-compose', ['-p', PROJECT, ...COMPOSE_FILES.flatMap((file) => ['-f', file]), ...PROFILES.flatMap((profile) => ['--profile', profile]), ...args], timeoutMs, engine!.env);
  const container = (service: string) => `${PROJECT}_${service}_1`;

  beforeAll(async () => {
    if (missing.length > 0) return;
    if (existsSync(ENV_FILE) && !readFileSync(ENV_FILE, 'utf8').startsWith(ENV_MARKER)) {
      throw new Error('docker/.env exists (your lab settings?): this test writes its own there, so move yours aside while it runs');
    }
    dir = mkdtempSync(join(tmpdir(), 'switchboard-compose-'));
    engine = await PodmanEngine.start(dir);

    let started = performance.now();
    const base = await ensureLocalBase();
    const coturnImage = standInImage('coturn', base);
    const redisImage = standInImage('redis', base);
    const kamailioImage = standInImage('kamailio', base);
    const prosodyImage = standInImage('prosody', base);
    const standIns = [['coturn', coturnImage], ['redis', redisImage], ['kamailio', kamailioImage], ['prosody', prosodyImage]] as const;
    for (const [name, image] of standIns) {
      if (await imageExists(image)) continue;
      await runLogged('podman', ['build', '--format', 'docker', '--build-arg', `BASE=${base}`, '-f', `test/docker/${name}.Dockerfile`, '-t', image, 'test/docker'], 240_000, engine.env);
    }
    timings.standInsMs = performance.now() - started;
    started = performance.now();
    // --format docker: the OCI format has no HEALTHCHECK, and podman would drop it.
    const build = ['build', '--format', 'docker', '--build-arg', `BASE=${base}`, ...(await npmCacheBuildArgs()), '-f', 'docker/Dockerfile', '-t', GATEWAY_IMAGE, '.'];
    await runLogged('podman', build, 300_000, engine.env);
    timings.gatewayBuildMs = performance.now() - started;
    timings.gatewayImageMB = Number(await engine.podman(['image', 'inspect', '--format', '{{.Size}}', GATEWAY_IMAGE])) / 1e6;

    subnet = await freeSubnet(engine);
    await engine.podman(['network', 'create', '--subnet', subnet, NETWORK]);
    networkCreated = true;

    ports.http = await allocatePort();
    ports.stun = await allocatePort();
    ports.sip = await allocatePort();
    ports.rtpMin = await freeMediaBlock();
    ports.rtpMax = ports.rtpMin + MEDIA_BLOCK / 2 - 1;
    ports.iceMin = ports.rtpMax + 1;
    ports.iceMax = ports.rtpMin + MEDIA_BLOCK - 1;
    const env = {
      // What a user writes (docker/switchboard.env.example, docker/compose.bridge.yaml):
      PUBLIC_IP: '127.0.0.1',
      TURN_SECRET: randomBytes(16).toString('hex'),
      TURN_REALM: 'switchboard.test',
      SWITCHBOARD_LOG__LEVEL: 'info',
      PUBLISH_ADDRESS: '127.0.0.1',
      HTTP_PORT: ports.http,
      STUN_PORT: ports.stun,
      SIP_PORT: ports.sip,
      RTP_PORT_MIN: ports.rtpMin,
      RTP_PORT_MAX: ports.rtpMax,
      ICE_PORT_MIN: ports.iceMin,
      ICE_PORT_MAX: ports.iceMax,
      // What test/docker/compose.podman.yaml reads:
      SB_TEST_GATEWAY_IMAGE: GATEWAY_IMAGE,
      SB_TEST_COTURN_IMAGE: coturnImage,
      SB_TEST_REDIS_IMAGE: redisImage,
      SB_TEST_KAMAILIO_IMAGE: kamailioImage,
      SB_TEST_PROSODY_IMAGE: prosodyImage,
      SB_TEST_NETWORK: NETWORK,
    };
    writeFileSync(ENV_FILE, [ENV_MARKER, ...Object.entries(env).map(([name, value]) => `${name}=${value}`), ''].join('\n'));
    envWritten = true;

    started = performance.now();
    await compose(['up', '-d', '--no-build']);
    // No healthcheck is ever scheduled here (no systemd timers): poll the published port, bounded.
    for (let attempt = 0; attempt < 120; attempt++) {
      const status = await fetch(`http://127.0.0.1:${ports.http}/healthz`).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200) break;
      await sleep(250);
    }
    timings.upToHealthyMs = performance.now() - started;
  }, 600_000);

  afterAll(async () => {
    for (const party of parties.splice(0)) party.close();
    await phone?.stop();
    await context?.close().catch(() => {});
    await browser?.close().catch(() => {});
    if (engine) {
      if (envWritten) {
        await compose(['down', '--volumes', '--remove-orphans', '--timeout', '15'], 120_000).catch((error: Error) => console.error(`compose down: ${error.message}`));
      }
      // Whatever compose left (a failed `up`, a dead API service): this project's containers only.
      const left = await engine.podman(['ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${PROJECT}`]).catch(() => '');
      if (left) await engine.podman(['rm', '--force', ...left.split('\n')]).catch(() => {});
      if (networkCreated) await engine.podman(['network', 'rm', '--force', NETWORK]).catch(() => {});
      await engine.podman(['rmi', '--force', GATEWAY_IMAGE]).catch(() => {});
      await engine.stop();
    }
    if (envWritten) rmSync(ENV_FILE, { force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.info(`compose-stack figures (ms, MB): ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  }, 180_000);

  it('comes up from docker-compose: /healthz and /readyz answer on the published port, the gateway is on the test bridge as uid 1000 with a read-only root', async () => {
    expect(engine, 'the engine started').toBeDefined();
    const health = await fetch(`http://127.0.0.1:${ports.http}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`http://127.0.0.1:${ports.http}/readyz`)).status).toBe(200);

    const [inspected] = JSON.parse(await engine!.podman(['inspect', container('gateway')])) as {
      State: { Pid: number; Running: boolean };
      Config: { User: string };
      HostConfig: { ReadonlyRootfs: boolean };
      NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
    }[];
    expect(inspected!.State.Running).toBe(true);
    const address = inspected!.NetworkSettings.Networks[NETWORK]?.IPAddress;
    expect(address, JSON.stringify(inspected!.NetworkSettings.Networks)).toMatch(new RegExp(`^${subnet.split('.').slice(0, 3).join('\\.')}\\.`));
    expect(readFileSync(`/proc/${inspected!.State.Pid}/status`, 'utf8')).toMatch(/^Uid:\s+1000\s/m);
    // compose.yaml's read_only: every call below runs on a read-only root filesystem.
    expect(inspected!.HostConfig.ReadonlyRootfs).toBe(true);

    // The image's HEALTHCHECK, run the way the engine would schedule it.
    expect(await engine!.podmanStatus(['healthcheck', 'run', container('gateway')])).toBe(0);
    // Logs are JSON lines on stdout, as a log collector takes them.
    const logs = (await engine!.podman(['logs', container('gateway')])).split('\n').filter(Boolean);
    expect(logs.some((line) => line.includes('switchboard gateway listening'))).toBe(true);
    for (const line of logs) expect(() => JSON.parse(line), line).not.toThrow();
  });

  it('runs the coturn and Redis services: a STUN binding on coturn, PING on the published Redis port', async () => {
    expect(await redisPing(REDIS_PORT)).toBe('+PONG');
    expect((await stunBinding(TURN_PORT)).type).toBe(0x0101);
    expect(await engine!.podmanStatus(['healthcheck', 'run', container('redis')])).toBe(0);
  });

  it('TURN in the stack: the credentials the gateway mints from TURN_SECRET (docker/.env) get a relay from the compose coturn; others do not', async () => {
    const client = await WsTestClient.connect(ports.http);
    client.send({ type: 'login', id: 'login', protocol: 1, name: 'erin' });
    const welcome = await client.next('welcome');
    client.close();
    const turn = welcome.iceServers.find((server) => server.urls.some((url) => url.startsWith('turn:')));
    expect(turn?.urls).toContain(`turn:127.0.0.1:${TURN_PORT}?transport=udp`);

    // node-datachannel's own TURN client (libjuice) allocates while gathering: a relay candidate means coturn said yes.
    const relayCandidates = async (username: string, credential: string): Promise<string[]> => {
      const endpoint = new WebRtcEndpoint({
        name: 'turn-probe',
        ice: { bindAddress: '127.0.0.1', iceServers: [`turn:${encodeURIComponent(username)}:${encodeURIComponent(credential)}@127.0.0.1:${TURN_PORT}?transport=udp`], gatherTimeoutMs: 5000 },
        logger: createSilentLogger(),
      });
      try {
        return (await endpoint.createOffer([PCMU])).split(/\r?\n/).filter((line) => line.includes(' typ relay'));
      } finally {
        endpoint.close();
      }
    };
    const relayed = await relayCandidates(turn!.username!, turn!.credential!);
    expect(relayed.length, 'a relay candidate with the minted credentials').toBeGreaterThan(0);
    // coturn's --external-ip is PUBLIC_IP: the relay address it hands out.
    for (const line of relayed) expect(line.split(' ')[4], line).toBe('127.0.0.1');
    expect(await relayCandidates(turn!.username!, 'not-the-minted-credential')).toEqual([]);
  });

  it('runs the sip and xmpp profiles: Kamailio answers OPTIONS on 5070, Prosody offers its stream features on 5222', async () => {
    const options = await exchangeUdp(KAMAILIO_PORT, {
      message: (local) => Buffer.from(rawRequest({ method: 'OPTIONS', user: 'probe', target: `127.0.0.1:${KAMAILIO_PORT}`, transport: 'UDP', sentBy: `127.0.0.1:${local}`, branch: `z9hG4bK${randomBytes(6).toString('hex')}` })),
      done: (responses) => responses.length > 0,
      waitMs: 5000,
    });
    expect(options.responses[0], 'a SIP response from the lab Kamailio').toMatch(/^SIP\/2\.0 \d{3} /);
    expect(await xmppStreamFeatures(PROSODY_PORT, 'localhost')).toContain('<stream:features');
  });

  it('sits behind NAT: its STUN responder, reached on the published port, sees the bridge gateway, not 127.0.0.1', async () => {
    const reply = await stunBinding(ports.stun);
    expect(reply.type).toBe(0x0101);
    expect(reply.mapped).toBe(subnet.replace(/\.0\/24$/, '.1'));
  });

  it('a web user logs in over the published WebSocket and calls service:echo: ICE through the published ports, a tone both ways', async () => {
    const alice = await WebParty.login(ports.http, 'alice');
    parties.push(alice);
    const callId = await alice.call('service:echo');
    await alice.answered(callId);
    await alice.connected();

    // What the gateway told the party: its candidates carry the announced address and ports of the published ICE range.
    const candidates = trickledCandidates(alice);
    expect(candidates.length).toBeGreaterThan(0);
    for (const line of candidates) {
      const [, , , , address, port] = line.split(' ');
      expect(address, line).toBe('127.0.0.1');
      expect(Number(port), line).toBeGreaterThanOrEqual(ports.iceMin);
      expect(Number(port), line).toBeLessThanOrEqual(ports.iceMax);
    }

    // The party sends 50 packets of a 440 Hz tone into the container; the echo sends them back out.
    const heard = await measurePcmu(alice.endpoint!, () => sendTone(alice.endpoint!, 50));
    expect(heard.received).toBeGreaterThan(40);
    expect(heard.rms).toBeGreaterThan(1000);
    // The anchor inside the container counted them both ways (its /metrics, on the published port).
    const metrics = await (await fetch(`http://127.0.0.1:${ports.http}/metrics`)).text();
    const packets = (direction: string) => metricSum(metrics, 'switchboard_anchor_packets_total', (line) => line.includes(`direction="${direction}"`));
    expect(packets('in'), metrics).toBeGreaterThan(40);
    expect(packets('out'), metrics).toBeGreaterThan(40);
    // Clients reach it at the address it announces: no warning.
    expect(metricSum(metrics, 'switchboard_announced_address_mismatch_total')).toBe(0);
    expect(await engine!.podman(['logs', container('gateway')])).not.toContain(MISMATCH_WARNING);

    alice.client.send({ type: 'hangup', callId });
    await alice.client.next('ended', (frame) => frame.callId === callId, 10_000).catch(() => undefined);
  }, 60_000);

  it('a Chromium page loaded from the published port calls service:echo and hears itself', async () => {
    browser = await launchChromium();
    context = await browser.newContext();
    const page = await SoftphonePage.open(context, `http://127.0.0.1:${ports.http}`);
    await page.login('grace');
    await page.dial('service:echo');
    await page.waitForState('active', 20_000);
    const heard = await page.inboundAudio(2000);
    expect(heard.packetsReceived).toBeGreaterThan(50);
    expect(heard.totalAudioEnergy).toBeGreaterThan(0.001);
    await page.hangup();
    await page.waitForState('ended');
  }, 60_000);

  it('TURN in the stack, relay/relay: two Chromium pages with relay-only policy call each other through the compose coturn, with credentials minted from TURN_SECRET, audio both ways', async () => {
    browser ??= await launchChromium();
    const contexts = [await browser.newContext(), await browser.newContext()];
    try {
      // The demo page's iceTransportPolicy=relay: only relay candidates, so every packet goes through coturn.
      const [ivy, judy] = await Promise.all(contexts.map((each) => SoftphonePage.open(each, `http://127.0.0.1:${ports.http}`, '?iceTransportPolicy=relay')));
      await ivy!.login('ivy');
      await judy!.login('judy');
      await ivy!.dial('web:judy');
      await judy!.answer();
      await ivy!.waitForState('active', 20_000);
      await judy!.waitForState('active', 20_000);

      // Both ends relay: the local candidate is a coturn allocation, and so is the remote one.
      expect(await ivy!.selectedCandidateTypes()).toEqual({ local: 'relay', remote: 'relay' });
      expect(await judy!.selectedCandidateTypes()).toEqual({ local: 'relay', remote: 'relay' });
      const [heardByIvy, heardByJudy] = await Promise.all([ivy!.inboundAudio(3000), judy!.inboundAudio(3000)]);
      for (const heard of [heardByIvy, heardByJudy]) {
        expect(heard.packetsReceived).toBeGreaterThan(50);
        expect(heard.totalAudioEnergy).toBeGreaterThan(0.001);
        expect(heard.maxAudioLevel).toBeGreaterThan(0.01);
      }

      // coturn ran compose.yaml's own command: its external IP is PUBLIC_IP (127.0.0.1), the relayed
      // address both pages got and sent to, and loopback peers stay refused. It relayed from its one
      // IPv4 address, on the test network: coturn maps a peer at its external IP to that relay address.
      const [inspected] = JSON.parse(await engine!.podman(['inspect', container('coturn')])) as {
        Args: string[];
        NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
      }[];
      expect(inspected!.Args).toContain('--external-ip=127.0.0.1');
      expect(inspected!.Args.join(' ')).not.toContain('allow-loopback-peers');
      const own = inspected!.NetworkSettings.Networks[NETWORK]?.IPAddress;
      expect(own, JSON.stringify(inspected!.NetworkSettings.Networks)).toMatch(new RegExp(`^${subnet.split('.').slice(0, 3).join('\\.')}\\.`));
      const relays = [...(await engine!.podman(['logs', container('coturn')])).matchAll(/Relay address to use: ([\d.]+)$/gm)].map((match) => match[1]);
      expect(relays).toEqual([own]);

      await judy!.hangup();
      await ivy!.waitForState('ended');
      expect(await ivy!.endReason()).toBe('hangup');
    } finally {
      for (const each of contexts) await each.close().catch(() => {});
    }
  }, 90_000);

  it('a SIP phone on the host (baresip) calls a web user through the published SIP port: plain RTP through the NAT, latched, a tone both ways', async () => {
    const frank = await WebParty.login(ports.http, 'frank');
    parties.push(frank);
    phone = await startBaresip({ user: 'phone', toneHz: 440 });
    // Its INVITE and RTP arrive from the bridge's gateway address, not from the 127.0.0.1 in its
    // Via and SDP: responses follow Via's rport, and the gateway's RTP follows the packets' source.
    await phone.dial(`sip:frank@127.0.0.1:${ports.sip}`);
    await frank.answer();
    await phone.waitForCallEstablished(10_000);
    await frank.connected();
    const heard = await measurePcmu(frank.endpoint!, () => sendTone(frank.endpoint!, 50));
    expect(heard.received, 'the phone heard by the web user').toBeGreaterThan(30);
    expect(heard.rms).toBeGreaterThan(500);
    expect(phone.recordedAudio({ skipS: 0.3 }).rms, 'the web user heard by the phone').toBeGreaterThan(100);
    // The phone hangs up: the gateway's own requests would go to the phone's Contact, 127.0.0.1 inside the container.
    await phone.hangup();
    await frank.client.next('ended', () => true, 10_000);
  }, 60_000);

  it('without the announced address (the same image, same bridge, same published ports): the call connects in signaling, no audio flows, and the gateway says why', async () => {
    // The NAT trap as users meet it: `docker run -p ...` without SWITCHBOARD_MEDIA__ANNOUNCED_ADDRESS.
    const http = await allocatePort();
    const rtpMin = await freeMediaBlock();
    const [rtpMax, iceMin, iceMax] = [rtpMin + MEDIA_BLOCK / 2 - 1, rtpMin + MEDIA_BLOCK / 2, rtpMin + MEDIA_BLOCK - 1];
    const name = `${PROJECT}_unannounced`;
    await engine!.podman([
      'run', '--detach', '--name', name, '--label', `com.docker.compose.project=${PROJECT}`, '--network', NETWORK,
      '--publish', `127.0.0.1:${http}:${http}/tcp`,
      '--publish', `127.0.0.1:${rtpMin}-${rtpMax}:${rtpMin}-${rtpMax}/udp`,
      '--publish', `127.0.0.1:${iceMin}-${iceMax}:${iceMin}-${iceMax}/udp`,
      '--env', `SWITCHBOARD_SERVER__PORT=${http}`,
      '--env', `SWITCHBOARD_MEDIA__RTP_PORT_MIN=${rtpMin}`, '--env', `SWITCHBOARD_MEDIA__RTP_PORT_MAX=${rtpMax}`,
      '--env', `SWITCHBOARD_MEDIA__ICE_PORT_MIN=${iceMin}`, '--env', `SWITCHBOARD_MEDIA__ICE_PORT_MAX=${iceMax}`,
      GATEWAY_IMAGE,
    ]);
    for (let attempt = 0; attempt < 120; attempt++) {
      if ((await fetch(`http://127.0.0.1:${http}/healthz`).then((response) => response.status, () => 0)) === 200) break;
      await sleep(250);
    }
    const [inspected] = JSON.parse(await engine!.podman(['inspect', name])) as { NetworkSettings: { Networks: Record<string, { IPAddress: string }> } }[];
    const own = inspected!.NetworkSettings.Networks[NETWORK]!.IPAddress;

    const bob = await WebParty.login(http, 'bob');
    parties.push(bob);
    const callId = await bob.call('service:echo');
    await bob.answered(callId);
    // Its candidates carry its container address, which no party outside the bridge reaches.
    await bob.client.next('candidate', (frame) => frame.callId === callId && frame.candidate === null, 10_000);
    const candidates = trickledCandidates(bob);
    expect(candidates.length).toBeGreaterThan(0);
    for (const line of candidates) expect(line.split(' ')[4], line).toBe(own);
    await expect(waitConnected(bob.endpoint!, 8000)).rejects.toThrow(/stayed/);
    const heard = await measurePcmu(bob.endpoint!, async () => {
      for (let i = 0; i < 10; i++) await sleep(50);
    });
    expect(heard.received).toBe(0);

    // What it prints and counts: clients came to 127.0.0.1, it announces its own address.
    const logs = (await engine!.podman(['logs', name])).split('\n').filter((line) => line.includes(MISMATCH_WARNING));
    expect(logs.length, 'one warning for the address').toBe(1);
    expect(JSON.parse(logs[0]!)).toMatchObject({ level: 'warn', reachedAt: '127.0.0.1', announcedAddress: own, announcedConfigured: false });
    const metrics = await (await fetch(`http://127.0.0.1:${http}/metrics`)).text();
    expect(metricSum(metrics, 'switchboard_announced_address_mismatch_total')).toBeGreaterThanOrEqual(1);

    bob.client.send({ type: 'hangup', callId });
    await engine!.podman(['rm', '--force', '--time', '5', name], 60_000);
  }, 90_000);

  it('docker-compose stop drains: SIGTERM reaches the gateway (PID 1), /readyz turns 503, the call goes on until hung up, then it exits 0; start brings it back with the same config', async () => {
    const carol = await WebParty.login(ports.http, 'carol');
    parties.push(carol);
    const callId = await carol.call('service:echo');
    await carol.answered(callId);
    await carol.connected();
    const before = JSON.parse(await engine!.podman(['inspect', container('gateway')])) as { Config: { Env: string[] }; State: { Pid: number } }[];

    // compose.yaml gives it 40 s (stop_grace_period); the call ends long before.
    const stopping = compose(['stop', 'gateway'], 120_000);
    let ready = 200;
    for (let attempt = 0; attempt < 80 && ready === 200; attempt++) {
      await sleep(250);
      ready = await fetch(`http://127.0.0.1:${ports.http}/readyz`).then((response) => response.status, () => 0);
    }
    expect(ready, '/readyz while draining').toBe(503);
    const during = await measurePcmu(carol.endpoint!, () => sendTone(carol.endpoint!, 25));
    expect(during.received, 'the call still carries audio while the gateway drains').toBeGreaterThan(15);
    carol.client.send({ type: 'hangup', callId });
    await stopping;

    const [stopped] = JSON.parse(await engine!.podman(['inspect', container('gateway')])) as { State: { Running: boolean; ExitCode: number } }[];
    expect(stopped!.State.Running).toBe(false);
    // 0: it stopped itself after draining (the engine's SIGKILL at the grace period's end would give 137).
    expect(stopped!.State.ExitCode).toBe(0);
    const logs = await engine!.podman(['logs', container('gateway')]);
    expect(logs).toContain('"signal":"SIGTERM"');
    expect(logs).toMatch(/"calls":1,[^\n]*"msg":"draining"/);

    const started = performance.now();
    await compose(['start', 'gateway'], 120_000);
    let status = 0;
    for (let attempt = 0; attempt < 120 && status !== 200; attempt++) {
      status = await fetch(`http://127.0.0.1:${ports.http}/healthz`).then((response) => response.status, () => 0);
      if (status !== 200) await sleep(250);
    }
    timings.restartToHealthyMs = performance.now() - started;
    expect(status).toBe(200);
    const after = JSON.parse(await engine!.podman(['inspect', container('gateway')])) as { Config: { Env: string[] }; State: { Pid: number } }[];
    expect(after[0]!.Config.Env.sort()).toEqual(before[0]!.Config.Env.sort());
    expect(after[0]!.State.Pid).not.toBe(before[0]!.State.Pid);
    // And it takes calls again.
    const dave = await WebParty.login(ports.http, 'dave');
    parties.push(dave);
    const again = await dave.call('service:echo');
    await dave.answered(again);
    await dave.connected();
    expect((await measurePcmu(dave.endpoint!, () => sendTone(dave.endpoint!, 25))).received).toBeGreaterThan(15);
    dave.client.send({ type: 'hangup', callId: again });
  }, 120_000);
});
