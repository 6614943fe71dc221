import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { environmentVariableFor } from '../../src/ops/listen-error.js';
import { startProcess, type RunningProcess } from '../support/child-process.js';
import { allocatePort } from '../support/sip/ports.js';

// The real `switchboard` command started where one of its ports is taken: it
// exits 1 with one line that names the port, what it is for, and the config
// key and environment variable that move it, without the system's error text.

let process_: RunningProcess | undefined;
const held: (Server | UdpSocket)[] = [];

afterEach(async () => {
  await process_?.stop();
  process_ = undefined;
  for (const socket of held.splice(0)) socket.close();
});

async function holdTcp(port: number): Promise<void> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  held.push(server);
}

async function holdUdp(port: number): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  held.push(socket);
}

interface Ports {
  http: number;
  stun: number;
  sip: number;
}

/** Runs the command until it exits; returns its exit code and output. */
async function runGateway(ports: Ports, extraEnv: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  process_ = startProcess(process.execPath, ['bin/switchboard.js'], {
    env: {
      PATH: process.env.PATH,
      SWITCHBOARD_SERVER__HOST: '127.0.0.1',
      SWITCHBOARD_SERVER__PORT: String(ports.http),
      SWITCHBOARD_STUN__HOST: '127.0.0.1',
      SWITCHBOARD_STUN__PORT: String(ports.stun),
      SWITCHBOARD_SIP__HOST: '127.0.0.1',
      SWITCHBOARD_SIP__PORT: String(ports.sip),
      SWITCHBOARD_SIP__ADVERTISED_HOST: '127.0.0.1',
      SWITCHBOARD_MEDIA__RTP_HOST: '127.0.0.1',
      SWITCHBOARD_MEDIA__ICE_BIND_ADDRESS: '127.0.0.1',
      ...extraEnv,
    },
  });
  const child = process_.child;
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (exitCode) => resolve(exitCode));
  });
  return { code, output: process_.output() };
}

async function freePorts(): Promise<Ports> {
  return { http: await allocatePort(), stun: await allocatePort(), sip: await allocatePort() };
}

/** The one output line saying why it could not start. */
function reasonLine(output: string): string {
  const lines = output.split('\n').filter((line) => line.includes('cannot start'));
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('a port already in use', () => {
  it.each([
    { name: 'HTTP (TCP)', hold: (p: Ports) => holdTcp(p.http), port: (p: Ports) => p.http, key: 'server.port', protocol: 'TCP', what: 'HTTP and WebSocket' },
    { name: 'STUN (UDP)', hold: (p: Ports) => holdUdp(p.stun), port: (p: Ports) => p.stun, key: 'stun.port', protocol: 'UDP', what: 'the embedded STUN responder' },
    { name: 'SIP over UDP', hold: (p: Ports) => holdUdp(p.sip), port: (p: Ports) => p.sip, key: 'sip.port', protocol: 'UDP', what: 'SIP over UDP' },
    { name: 'SIP over TCP', hold: (p: Ports) => holdTcp(p.sip), port: (p: Ports) => p.sip, key: 'sip.port', protocol: 'TCP', what: 'SIP over TCP' },
  ])('$name: exits 1 naming $key and its environment variable, once', async ({ hold, port, key, protocol, what }) => {
    const ports = await freePorts();
    await hold(ports);
    const { code, output } = await runGateway(ports);
    expect(code).toBe(1);
    const line = reasonLine(output);
    const entry = JSON.parse(line) as Record<string, unknown>;
    expect(entry).toMatchObject({ level: 'fatal', code: 'port-in-use', port: port(ports), protocol, key, environmentVariable: environmentVariableFor(key) });
    expect(entry.msg).toContain(`${protocol} port ${port(ports)} on 127.0.0.1 (${what}`);
    expect(entry.msg).toContain(`set ${key} in the config file or ${environmentVariableFor(key)} in the environment`);
    expect(entry).not.toHaveProperty('err');
    // Said once: no stack, no "EADDRINUSE: address already in use" beside it.
    expect(output).not.toMatch(/EADDRINUSE|address already in use/);
    expect(output.match(/already in use/g)).toHaveLength(1);
  }, 30_000);

  it('an address the machine does not have names server.host instead', async () => {
    const ports = await freePorts();
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface here: binding it fails at once, nothing is sent.
    const { code, output } = await runGateway(ports, { SWITCHBOARD_SERVER__HOST: '192.0.2.1' });
    expect(code).toBe(1);
    const entry = JSON.parse(reasonLine(output)) as Record<string, unknown>;
    expect(entry).toMatchObject({ code: 'address-not-available', key: 'server.host', environmentVariable: 'SWITCHBOARD_SERVER__HOST' });
  }, 30_000);

  it('maps keys to variables the way the config loader reads them', () => {
    expect(environmentVariableFor('server.port')).toBe('SWITCHBOARD_SERVER__PORT');
    expect(environmentVariableFor('sip.tls.port')).toBe('SWITCHBOARD_SIP__TLS__PORT');
    expect(environmentVariableFor('media.rtpPortMin')).toBe('SWITCHBOARD_MEDIA__RTP_PORT_MIN');
    expect(environmentVariableFor('media.icePortMax')).toBe('SWITCHBOARD_MEDIA__ICE_PORT_MAX');
  });
});
