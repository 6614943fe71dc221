import { randomInt } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../../src/logging/logger.js';
import { PortAllocator } from '../../src/media/port-allocator.js';
import { parseRtcpCompound, type RtcpPacket } from '../../src/media/rtcp-report.js';
import { RtpEndpoint } from '../../src/media/rtp-endpoint.js';
import { buildRtpPacket, isRtcpPacket, parseRtpHeader } from '../../src/media/rtp-packet.js';
import { RtpTonePeer } from '../../src/testing/rtp-tone-peer.js';

const HOST = '127.0.0.1';
const TEST_TIMEOUT_MS = 10_000;
const logger = createSilentLogger();

/** A range below Linux's ephemeral ports, random so parallel test files rarely meet; the allocator skips busy pairs anyway. */
function makePorts(): PortAllocator {
  const min = 2 * randomInt(10_000, 15_500);
  return new PortAllocator({ min, max: min + 199 });
}

interface RawPeer {
  socket: Socket;
  port: number;
  received: { packet: Buffer; from: RemoteInfo }[];
  send(packet: Buffer, port: number): void;
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function rawPeer(host = HOST): Promise<RawPeer> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const received: RawPeer['received'] = [];
  socket.on('message', (packet, from) => received.push({ packet, from }));
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return { socket, port: socket.address().port, received, send: (packet, port) => socket.send(packet, port, HOST) };
}

async function endpoint(options: { rtcpIntervalMs?: number; ports?: PortAllocator } = {}): Promise<RtpEndpoint> {
  const created = await RtpEndpoint.create({ host: HOST, ports: options.ports ?? makePorts(), logger, ...options });
  cleanups.push(() => created.close());
  return created;
}

async function tonePeer(): Promise<RtpTonePeer> {
  const peer = await RtpTonePeer.create();
  cleanups.push(() => peer.close());
  return peer;
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function rtp(ssrc: number, sequenceNumber: number): Buffer {
  return buildRtpPacket({ payloadType: 0, sequenceNumber, timestamp: sequenceNumber * 160, ssrc, payload: Buffer.alloc(160, 0xff) });
}

function rtcpFrom(peer: RawPeer): RtcpPacket[][] {
  return peer.received.filter((r) => isRtcpPacket(r.packet)).map((r) => parseRtcpCompound(r.packet) ?? []);
}

describe('RtpEndpoint', () => {
  it('receives, counts and echoes a tone peer’s stream', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const peer = await tonePeer();
    ep.setRemote({ address: HOST, port: peer.localPort, rtcpMux: false });
    peer.setRemote({ address: HOST, port: ep.localPort });
    const latched: string[] = [];
    ep.on('latched', (source) => latched.push(source));
    ep.on('rtp', (packet) => ep.sendRtp(packet));

    peer.start();
    await waitFor(() => peer.received.packets >= 25);
    const stats = ep.stats;
    expect(stats.packetsIn).toBeGreaterThanOrEqual(25);
    expect(stats.bytesIn).toBe(stats.packetsIn * (12 + 160));
    expect(stats.packetsOut).toBe(stats.packetsIn);
    expect(stats).toMatchObject({ dropped: 0, lost: 0, latched: `${HOST}:${peer.localPort}`, remote: `${HOST}:${peer.localPort}` });
    expect(stats.jitterMs).toBeLessThan(20);
    expect(latched).toEqual([`${HOST}:${peer.localPort}`]);

    const received = peer.received;
    expect(received.ssrcs).toEqual([peer.ssrc]);
    expect(received.payloadTypes).toEqual(new Set([0]));
    expect(received.rms).toBeGreaterThan(1000);
    expect(received.tonePower(440)).toBeGreaterThan(100 * received.tonePower(1000));
  });

  it('latches onto another port of the negotiated IP and sends there from then on', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const negotiated = await rawPeer();
    const phone = await rawPeer();
    ep.setRemote({ address: HOST, port: negotiated.port, rtcpMux: false });

    // Before any media arrives, replies go to the negotiated port.
    ep.sendRtp(rtp(1, 1));
    await waitFor(() => negotiated.received.length === 1);

    const latched = new Promise<string>((resolve) => ep.once('latched', resolve));
    phone.send(rtp(0xabc, 10), ep.localPort);
    expect(await latched).toBe(`${HOST}:${phone.port}`);
    expect(ep.stats.latched).toBe(`${HOST}:${phone.port}`);

    for (let seq = 2; seq < 7; seq++) ep.sendRtp(rtp(1, seq));
    await waitFor(() => phone.received.length === 5);
    await sleep(50);
    expect(negotiated.received).toHaveLength(1);
    expect(phone.received.map((r) => parseRtpHeader(r.packet)?.sequenceNumber)).toEqual([2, 3, 4, 5, 6]);
    expect(phone.received.every((r) => r.from.port === ep.localPort)).toBe(true);
  });

  it('drops packets from a second source once latched', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const phone = await rawPeer();
    const intruder = await rawPeer();
    ep.setRemote({ address: HOST, port: phone.port, rtcpMux: false });
    const ssrcs: number[] = [];
    const dropped: string[] = [];
    ep.on('rtp', (packet) => ssrcs.push(parseRtpHeader(packet)!.ssrc));
    ep.on('dropped', (source) => dropped.push(source));

    phone.send(rtp(1, 1), ep.localPort);
    await waitFor(() => ep.stats.latched !== undefined);
    for (let seq = 0; seq < 5; seq++) intruder.send(rtp(666, seq), ep.localPort);
    phone.send(rtp(1, 2), ep.localPort);
    await waitFor(() => ep.stats.packetsIn === 2 && ep.stats.dropped === 5);

    expect(ssrcs).toEqual([1, 1]);
    expect(dropped).toEqual(Array(5).fill(`${HOST}:${intruder.port}`));
    expect(ep.stats.latched).toBe(`${HOST}:${phone.port}`);
  });

  it('drops packets from another IP, even before latching', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const phone = await rawPeer();
    // 127.0.0.0/8 is all loopback on Linux: a second host address without leaving the machine.
    const elsewhere = await rawPeer('127.0.0.2');
    ep.setRemote({ address: HOST, port: phone.port, rtcpMux: false });
    const dropped: string[] = [];
    ep.on('dropped', (source) => dropped.push(source));

    for (let seq = 0; seq < 3; seq++) elsewhere.send(rtp(666, seq), ep.localPort);
    await waitFor(() => ep.stats.dropped === 3);
    expect(dropped[0]).toBe(`127.0.0.2:${elsewhere.port}`);
    expect(ep.stats).toMatchObject({ packetsIn: 0, latched: undefined });

    // The real phone is still welcome, and nothing was sent to the stranger.
    ep.on('rtp', (packet) => ep.sendRtp(packet));
    phone.send(rtp(1, 1), ep.localPort);
    await waitFor(() => phone.received.length === 1);
    expect(elsewhere.received).toHaveLength(0);
  });

  it('drops everything before setRemote, and garbage from the right address', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const phone = await rawPeer();
    phone.send(rtp(1, 1), ep.localPort);
    phone.send(rtp(1, 2), ep.localPort + 1);
    await waitFor(() => ep.stats.dropped === 2);
    expect(ep.stats.packetsIn).toBe(0);

    ep.setRemote({ address: HOST, port: phone.port, rtcpMux: false });
    phone.send(Buffer.from('not a media packet at all'), ep.localPort);
    // An RR on the RTP port when RTCP-mux was not negotiated.
    phone.send(Buffer.from('80c9000100000001', 'hex'), ep.localPort);
    phone.send(Buffer.from('garbage on the RTCP port'), ep.localPort + 1);
    await waitFor(() => ep.stats.dropped === 5);
    expect(ep.stats).toMatchObject({ packetsIn: 0, rtcpPacketsIn: 0, latched: undefined });
  });

  it('follows a phone behind NAT via the signaling address', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const phone = await rawPeer();
    // The SDP carries the phone's private address; its packets come from the NAT's public one.
    ep.setRemote({ address: '192.0.2.10', port: 4000, rtcpMux: false, signalingAddress: HOST });
    ep.on('rtp', (packet) => ep.sendRtp(packet));
    phone.send(rtp(1, 1), ep.localPort);
    await waitFor(() => phone.received.length === 1);
    expect(ep.stats.latched).toBe(`${HOST}:${phone.port}`);
  });

  it('starts over on a re-offer', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    const first = await rawPeer();
    const second = await rawPeer();
    ep.setRemote({ address: HOST, port: first.port, rtcpMux: false });
    first.send(rtp(1, 1), ep.localPort);
    await waitFor(() => ep.stats.latched === `${HOST}:${first.port}`);

    ep.setRemote({ address: HOST, port: second.port, rtcpMux: false });
    expect(ep.stats.latched).toBeUndefined();
    second.send(rtp(2, 1), ep.localPort);
    await waitFor(() => ep.stats.latched === `${HOST}:${second.port}`);
    first.send(rtp(1, 2), ep.localPort);
    await waitFor(() => ep.stats.dropped === 1);
  });

  it('reports on the received stream with RRs, and SRs once it sends (RTCP-mux)', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint({ rtcpIntervalMs: 100 });
    const phone = await rawPeer();
    ep.setRemote({ address: HOST, port: phone.port, rtcpMux: true });
    // Sequence 100..119 with 105 and 111 lost.
    for (let seq = 100; seq < 120; seq++) if (seq !== 105 && seq !== 111) phone.send(rtp(0x5eed, seq), ep.localPort);
    // The burst could straddle a report, so look for the report that has seen all of it.
    const sawAll = (packets: RtcpPacket[]): boolean =>
      packets[0]?.type === 'rr' && packets[0].reports[0]?.extendedHighestSequence === 119;
    await waitFor(() => rtcpFrom(phone).some(sawAll));

    const [report, sdes] = rtcpFrom(phone).find(sawAll)!;
    expect(report).toMatchObject({ type: 'rr', reports: [{ ssrc: 0x5eed, cumulativeLost: 2, lastSr: 0, delaySinceLastSr: 0 }] });
    expect((report as { reports: { fractionLost: number }[] }).reports[0]!.fractionLost).toBeGreaterThan(0);
    expect(sdes).toMatchObject({ type: 'sdes', chunks: [{ cname: expect.any(String) }] });
    expect(ep.stats.lost).toBe(2);

    // No media in either direction: no more reports.
    const count = rtcpFrom(phone).length;
    await sleep(300);
    expect(rtcpFrom(phone)).toHaveLength(count);

    for (let seq = 1; seq <= 3; seq++) ep.sendRtp(rtp(0x0abc, seq));
    await waitFor(() => rtcpFrom(phone).some(([first]) => first?.type === 'sr'));
    const sr = rtcpFrom(phone).find(([first]) => first?.type === 'sr')![0];
    expect(sr).toMatchObject({ type: 'sr', ssrc: 0x0abc, reports: [], sender: { packetCount: 3, octetCount: 480 } });
    expect(ep.stats.rtcpPacketsOut).toBe(rtcpFrom(phone).length);
  });

  it('sends RTCP from and to the RTCP ports without mux', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint({ rtcpIntervalMs: 100 });
    const phoneRtp = await rawPeer();
    const phoneRtcp = await rawPeer();
    ep.setRemote({ address: HOST, port: phoneRtp.port, rtcpPort: phoneRtcp.port, rtcpMux: false });
    const rtcpEvents: Buffer[] = [];
    ep.on('rtcp', (packet) => rtcpEvents.push(packet));
    phoneRtp.send(rtp(7, 1), ep.localPort);
    await waitFor(() => phoneRtcp.received.length >= 1);
    expect(phoneRtcp.received[0]!.from.port).toBe(ep.localPort + 1);
    expect(parseRtcpCompound(phoneRtcp.received[0]!.packet)?.[0]).toMatchObject({ type: 'rr', reports: [{ ssrc: 7 }] });
    expect(phoneRtp.received.filter((r) => isRtcpPacket(r.packet))).toHaveLength(0);

    // The phone's own reports arrive on our RTCP port and are passed on.
    const phoneRr = Buffer.from('80c9000100000007', 'hex');
    phoneRtcp.send(phoneRr, ep.localPort + 1);
    await waitFor(() => rtcpEvents.length === 1);
    expect(rtcpEvents[0]).toEqual(phoneRr);
    expect(ep.stats.rtcpPacketsIn).toBe(1);
  });

  it('measures the round-trip time between two endpoints from SR/RR', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ports = makePorts();
    const a = await endpoint({ rtcpIntervalMs: 100, ports });
    const b = await endpoint({ rtcpIntervalMs: 100, ports });
    a.setRemote({ address: HOST, port: b.localPort, rtcpMux: false });
    b.setRemote({ address: HOST, port: a.localPort, rtcpMux: false });
    let seq = 0;
    const media = setInterval(() => {
      seq++;
      a.sendRtp(rtp(0xa, seq));
      b.sendRtp(rtp(0xb, seq));
    }, 20);
    cleanups.push(() => clearInterval(media));

    await waitFor(() => a.stats.rttMs !== undefined && b.stats.rttMs !== undefined);
    expect(a.stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(a.stats.rttMs).toBeLessThan(50);
    expect(b.stats.rttMs).toBeLessThan(50);
    expect(a.stats.rtcpPacketsIn).toBeGreaterThan(0);
  });

  it('closes once, releases its ports and goes quiet', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ports = makePorts();
    const ep = await endpoint({ ports });
    const phone = await rawPeer();
    ep.setRemote({ address: HOST, port: phone.port, rtcpMux: false });
    expect(ports.inUse).toBe(1);
    let closeEvents = 0;
    ep.on('close', () => closeEvents++);

    ep.close();
    ep.close();
    expect(ep.closed).toBe(true);
    expect(closeEvents).toBe(1);
    expect(ports.inUse).toBe(0);
    expect(() => ep.sendRtp(rtp(1, 1))).not.toThrow();
    expect(() => ep.sendRtcp(Buffer.from('80c9000100000001', 'hex'))).not.toThrow();

    // Both ports can be bound by someone else right away.
    const rebound = await Promise.all([ep.localPort, ep.localPort + 1].map(async (port) => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, HOST, () => resolve());
      });
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      return port;
    }));
    expect(rebound).toEqual([ep.localPort, ep.localPort + 1]);
    await sleep(50);
    expect(phone.received).toHaveLength(0);
  });

  it('rejects a remote of the wrong family or with a bad port', { timeout: TEST_TIMEOUT_MS }, async () => {
    const ep = await endpoint();
    expect(() => ep.setRemote({ address: '::1', port: 4000, rtcpMux: false })).toThrow(TypeError);
    expect(() => ep.setRemote({ address: 'phone.example', port: 4000, rtcpMux: false })).toThrow(TypeError);
    expect(() => ep.setRemote({ address: HOST, port: 0, rtcpMux: false })).toThrow(RangeError);
    expect(() => ep.setRemote({ address: HOST, port: 65535, rtcpMux: false })).toThrow(RangeError);
  });
});
