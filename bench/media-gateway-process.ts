/**
 * The gateway of the media benchmark, alone in a forked child so that its CPU
 * and memory readings are its own: the "browsers" and plain-RTP phones that
 * load it live in the parent. Anchoring is forced by the callee: `tel:`
 * numbers route to an IpcTelLeg, a plain-RTP party whose SDP is answered by
 * the parent over IPC (the parent owns the phone's UDP socket), the way the
 * SIP adapter hands SDP to a desk phone.
 *
 * Run as the child (main module), it starts the gateway on loopback and speaks
 * the IPC protocol below; imported, it gives `startMediaGateway()`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseAddress, type Address } from '../src/calls/address.js';
import type { IncomingCall, Leg, LegMediaCapabilities } from '../src/calls/leg.js';
import { LocalPartyLeg } from '../src/calls/local-party-leg.js';
import { validateConfig } from '../src/config/load-config.js';
import { Gateway } from '../src/gateway.js';
import { createSilentLogger } from '../src/logging/logger.js';
import type { AnchorMediaSession } from '../src/media/anchor-media-session.js';
import { IpcChild, isMainModule, reportToParent } from './ipc-child.js';

export type MediaGatewayCommand =
  | { cmd: 'stats'; gc: boolean; resetLoopDelay: boolean }
  | { cmd: 'media-stats' }
  | { cmd: 'tel-answer'; callId: string; sdp: string }
  | { cmd: 'tel-reject'; callId: string; detail: string }
  /** A phone calls `to` (a web user) with its RTP/AVP offer: the gateway offers the browser. */
  | { cmd: 'tel-call'; callId: string; from: string; to: string; sdp: string }
  | { cmd: 'stop' };

/** Packet counters summed over every anchored call (see AnchorMediaSession.stats()). */
export interface AnchorCounters {
  calls: number;
  /** Decrypted RTP in from the browsers, RTP out to them. */
  webrtcIn: number;
  webrtcOut: number;
  /** Plain RTP in from the phones, RTP out to them. */
  rtpIn: number;
  rtpOut: number;
  connected: number;
}

export interface MediaGatewayStats {
  memory: NodeJS.MemoryUsage;
  /** Cumulative CPU time of the whole process (every thread), microseconds. */
  cpu: NodeJS.CpuUsage;
  /** Event-loop delay since the last reset, ms. */
  loopDelayMs: { p50: number; p99: number; max: number };
  /** process.hrtime in µs: the clock of the V8 CPU profile, to cut it to a window. */
  hrtimeUs: number;
}

export type MediaGatewayReport =
  | { type: 'ready'; httpPort: number; pid: number }
  | ({ type: 'stats' } & MediaGatewayStats)
  | ({ type: 'media-stats' } & AnchorCounters)
  | { type: 'tel-offer'; callId: string; sdp: string }
  | { type: 'tel-ended'; callId: string }
  /** The gateway's answer to a `tel-call` (the browser answered). */
  | { type: 'tel-answered'; callId: string; sdp: string }
  | { type: 'tel-call-failed'; callId: string; message: string }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

export type MediaGatewayChild = IpcChild<MediaGatewayCommand, MediaGatewayReport>;

/** Gateway ICE ports: below Linux's ephemeral range, where the parent's sockets land. */
const GATEWAY_ICE_PORTS = { icePortMin: 30_000, icePortMax: 32_767 };

/** Forks the gateway; `cpuProfileDir` starts it under --cpu-prof (the profile is written when it stops). */
export async function startMediaGateway(options: { cpuProfileDir?: string } = {}): Promise<{ child: MediaGatewayChild; httpPort: number }> {
  const execArgv = ['--expose-gc'];
  if (options.cpuProfileDir) execArgv.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir);
  const { child, ready } = await IpcChild.fork<MediaGatewayCommand, MediaGatewayReport>(new URL(import.meta.url), {
    label: 'media gateway',
    execArgv,
  });
  return { child, httpPort: ready.httpPort };
}

// ---------------------------------------------------------------- child side

/**
 * The callee side of a benchmark call: a plain-RTP party (no ICE, no DTLS), so
 * the call is anchored. Its offer goes to the parent, whose answer comes back
 * as `tel-answer`; ringing and answer are then immediate, like an auto-answer.
 */
class IpcTelLeg extends LocalPartyLeg implements Leg {
  readonly capabilities: LegMediaCapabilities = { webrtc: false, trickle: false };

  constructor(
    readonly id: string,
    readonly address: Address,
    private readonly onRelease: (leg: IpcTelLeg) => void,
  ) {
    super();
  }

  async deliverCall(call: IncomingCall): Promise<void> {
    reportToParent({ type: 'tel-offer', callId: this.id, sdp: call.sdp } satisfies MediaGatewayReport);
  }

  answer(sdp: string): void {
    this.emitEvent('ringing');
    this.emitEvent('answered', sdp);
  }

  reject(detail: string): void {
    this.partyEnded('failed', detail);
  }

  /** As the caller of a `tel-call`: the gateway's answer goes to the parent's phone. */
  override notifyAnswered(sdp: string): void {
    reportToParent({ type: 'tel-answered', callId: this.id, sdp } satisfies MediaGatewayReport);
  }


  protected override release(): void {
    this.onRelease(this);
    reportToParent({ type: 'tel-ended', callId: this.id } satisfies MediaGatewayReport);
  }
}

function anchorCounters(gateway: Gateway): AnchorCounters {
  const totals: AnchorCounters = { calls: 0, webrtcIn: 0, webrtcOut: 0, rtpIn: 0, rtpOut: 0, connected: 0 };
  type Side = { webrtc?: { state: string; packetsIn: number; packetsOut: number }; rtp?: { packetsIn: number; packetsOut: number } };
  for (const call of gateway.calls.list()) {
    if (call.media.mode !== 'anchor') continue;
    totals.calls += 1;
    const stats = (call.media as AnchorMediaSession).stats() as { a: Side; b: Side };
    for (const side of [stats.a, stats.b]) {
      totals.webrtcIn += side.webrtc?.packetsIn ?? 0;
      totals.webrtcOut += side.webrtc?.packetsOut ?? 0;
      totals.rtpIn += side.rtp?.packetsIn ?? 0;
      totals.rtpOut += side.rtp?.packetsOut ?? 0;
      if (side.webrtc?.state === 'connected') totals.connected += 1;
    }
  }
  return totals;
}

async function childMain(): Promise<void> {
  if (!process.send) throw new Error('this file is started by startMediaGateway() (it needs an IPC channel)');
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    stun: { host: '127.0.0.1', port: 0 },
    ice: { candidateNetworks: ['127.0.0.0/8'] },
    log: { level: 'silent' },
    // The SIP adapter would own tel: (and listen on 0.0.0.0:5060): here tel: is the benchmark's phones.
    sip: { enabled: false },
    // Media on loopback only; a port range far wider than the 400-odd calls need.
    media: { mode: 'auto', rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1', rtpPortMin: 20_000, rtpPortMax: 29_999, ...GATEWAY_ICE_PORTS },
    // One WebSocket per benchmark browser, two frames each (login, call): the default
    // rate limit and 4 calls per connection already fit. Only the per-source connection
    // limits are raised: every simulated browser comes from 127.0.0.1.
    signaling: { maxConnections: 0, maxConnectionsPerSource: 1_000_000, maxPendingLoginsPerSource: 1_000_000, maxCallsPerSource: 1_000_000 },
  });
  const gateway = new Gateway(config, { logger: createSilentLogger() });
  const legs = new Map<string, IpcTelLeg>();
  gateway.router.register(['tel'], {
    createLeg: async ({ callId, target }) => {
      const leg = new IpcTelLeg(callId, target, (released) => legs.delete(released.id));
      legs.set(callId, leg);
      return leg;
    },
  });
  const { httpPort } = await gateway.start();
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();

  let stopping: Promise<void> | undefined;
  // No MediaEngine.shutdown() (node-datachannel's cleanup()) before exiting, unlike src/cli.ts: with
  // hundreds of tracks just closed it segfaults in TrackWrapper::CloseAll about one stop in four, which
  // would lose the --cpu-prof profile. process.exit() ends the native threads anyway.
  const stop = (): Promise<void> => (stopping ??= gateway.stop());
  process.on('message', (command: MediaGatewayCommand) => {
    switch (command.cmd) {
      case 'stats': {
        // A collection only when asked: a full GC inside a CPU window would be billed to the calls.
        if (command.gc) globalThis.gc?.();
        const ms = (ns: number): number => ns / 1e6;
        const delay = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
        if (command.resetLoopDelay) loopDelay.reset();
        const hrtimeUs = Number(process.hrtime.bigint() / 1000n);
        reportToParent({ type: 'stats', memory: process.memoryUsage(), cpu: process.cpuUsage(), loopDelayMs: delay, hrtimeUs } satisfies MediaGatewayReport);
        break;
      }
      case 'media-stats':
        reportToParent({ type: 'media-stats', ...anchorCounters(gateway) } satisfies MediaGatewayReport);
        break;
      case 'tel-answer':
        legs.get(command.callId)?.answer(command.sdp);
        break;
      case 'tel-reject':
        legs.get(command.callId)?.reject(command.detail);
        break;
      case 'tel-call': {
        const { callId } = command;
        const leg = new IpcTelLeg(callId, parseAddress(`tel:${command.from}`), (released) => legs.delete(released.id));
        legs.set(callId, leg);
        gateway.calls.place({ id: callId, caller: leg, target: parseAddress(command.to), sdp: command.sdp }).catch((error: unknown) => {
          legs.delete(callId);
          reportToParent({ type: 'tel-call-failed', callId, message: String(error) } satisfies MediaGatewayReport);
        });
        break;
      }
      case 'stop':
        // A normal exit, so that --cpu-prof writes its profile.
        stop().then(
          () => reportToParent({ type: 'stopped' }, () => process.exit(0)),
          (error: unknown) => reportToParent({ type: 'failed', message: String(error) }, () => process.exit(1)),
        );
        break;
    }
  });
  // The parent died or closed the channel: do not linger holding ports.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  reportToParent({ type: 'ready', httpPort, pid: process.pid } satisfies MediaGatewayReport);
}

if (isMainModule(import.meta.url)) {
  childMain().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (!process.send) console.error(error);
    reportToParent({ type: 'failed', message }, () => process.exit(1));
  });
}
