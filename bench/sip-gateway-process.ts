/**
 * The gateway of the SIP benchmark, alone in a forked child (its CPU is then
 * its own): the SIP adapter on a UDP port of loopback, the media anchor, and
 * the browser WebSocket protocol for the answering web users. Calls from sipp
 * are anchored (plain RTP on the SIP side, ICE + DTLS-SRTP on the web side).
 *
 * Run as the child (main module), it starts the gateway and speaks IPC: `ready`
 * with its ports, `stats` on request, `stopped` after `stop`; imported, it
 * gives `startSipGateway()`.
 */
import { validateConfig } from '../src/config/load-config.js';
import { Gateway } from '../src/gateway.js';
import { createSilentLogger } from '../src/logging/logger.js';
import { IpcChild, isMainModule, reportToParent } from './ipc-child.js';

export type SipGatewayCommand = { cmd: 'stats' } | { cmd: 'stop' };

export type SipGatewayReport =
  | { type: 'ready'; httpPort: number; sipPort: number; pid: number }
  | { type: 'stats'; cpu: NodeJS.CpuUsage; rssBytes: number; activeCalls: number }
  | { type: 'stopped' }
  | { type: 'failed'; message: string };

export type SipGatewayChild = IpcChild<SipGatewayCommand, SipGatewayReport>;

/**
 * The INVITE flood limits (`sip.inbound.invitesPerSecond`, 20 per source by
 * default, and `invitesPerSecondTotal`, 100 from all sources) and the request
 * rate (`requestsPerSecond`, 200 per source, `requestsPerSecondTotal`, 1000)
 * are raised above the fastest step (the driver calls from one address): the
 * benchmark measures how many calls the gateway can set up, not the limit.
 * Everything else is the default.
 */
export const BENCH_INVITES_PER_SECOND = 1000;

export async function startSipGateway(): Promise<{ child: SipGatewayChild; httpPort: number; sipPort: number }> {
  const { child, ready } = await IpcChild.fork<SipGatewayCommand, SipGatewayReport>(new URL(import.meta.url), { label: 'SIP gateway' });
  return { child, httpPort: ready.httpPort, sipPort: ready.sipPort };
}

// ---------------------------------------------------------------- child side

async function childMain(): Promise<void> {
  if (!process.send) throw new Error('this file is started by startSipGateway() (it needs an IPC channel)');
  const config = validateConfig({
    server: { host: '127.0.0.1', port: 0 },
    stun: { host: '127.0.0.1', port: 0 },
    ice: { candidateNetworks: ['127.0.0.0/8'] },
    log: { level: 'silent' },
    sip: { enabled: true, host: '127.0.0.1', port: 0, tcp: false, ws: false, advertisedHost: '127.0.0.1', inbound: { invitesPerSecond: BENCH_INVITES_PER_SECOND, invitesPerSecondTotal: BENCH_INVITES_PER_SECOND, requestsPerSecond: 10 * BENCH_INVITES_PER_SECOND, requestsPerSecondTotal: 10 * BENCH_INVITES_PER_SECOND } },
    // Loopback only; ICE ports below Linux's ephemeral range, where the driver's sockets land.
    media: { rtpHost: '127.0.0.1', iceBindAddress: '127.0.0.1', rtpPortMin: 20_000, rtpPortMax: 29_999, icePortMin: 30_000, icePortMax: 32_767 },
    // Every answering web user comes from 127.0.0.1, where in production each would be its own source.
    signaling: { maxConnections: 0, maxConnectionsPerSource: 1_000_000, maxPendingLoginsPerSource: 1_000_000 },
  });
  const gateway = new Gateway(config, { logger: createSilentLogger() });
  const { httpPort } = await gateway.start();
  const sipPort = gateway.sip?.addresses()?.udp?.port;
  if (!sipPort) throw new Error('the SIP adapter has no UDP listener');

  let stopping: Promise<void> | undefined;
  // No node-datachannel cleanup() before exiting (see media-gateway-process.ts): process.exit() ends its threads.
  const stop = (): Promise<void> => (stopping ??= gateway.stop());
  process.on('message', (command: SipGatewayCommand) => {
    if (command.cmd === 'stats') {
      reportToParent({ type: 'stats', cpu: process.cpuUsage(), rssBytes: process.memoryUsage().rss, activeCalls: gateway.calls.size } satisfies SipGatewayReport);
    } else if (command.cmd === 'stop') {
      stop().then(
        () => reportToParent({ type: 'stopped' }, () => process.exit(0)),
        (error: unknown) => reportToParent({ type: 'failed', message: String(error) }, () => process.exit(1)),
      );
    }
  });
  // The parent died or closed the channel: do not linger holding ports.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  reportToParent({ type: 'ready', httpPort, sipPort, pid: process.pid } satisfies SipGatewayReport);
}

if (isMainModule(import.meta.url)) {
  childMain().catch((error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    if (!process.send) console.error(error);
    reportToParent({ type: 'failed', message }, () => process.exit(1));
  });
}
