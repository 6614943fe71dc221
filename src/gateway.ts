import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallRegistry } from './calls/call-registry.js';
import type { Leg } from './calls/leg.js';
import type { MediaSession } from './calls/media-session.js';
import { RelayMediaSession } from './calls/relay-media-session.js';
import { Router } from './calls/router.js';
import type { GatewayConfig } from './config/config-schema.js';
import type { Directory } from './directory/directory.js';
import { MemoryDirectory } from './directory/memory-directory.js';
import { createHttpServer, sendJson } from './http/http-server.js';
import { StaticFiles } from './http/static-files.js';
import { makeCandidateFilter } from './ice/candidate-filter.js';
import { buildIceServers } from './ice/ice-servers.js';
import { StunServer } from './ice/stun-server.js';
import { makeTurnCredentials } from './ice/turn-credentials.js';
import { createLogger, type Logger } from './logging/logger.js';
import { CallFailedError } from './errors/gateway-error.js';
import { AnchorMediaSession } from './media/anchor-media-session.js';
import { MediaEngine } from './media/media-engine.js';
import { ServiceLegFactory } from './services/service-leg-factory.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { BrowserSession } from './signaling/browser-session.js';
import { SignalingServer } from './signaling/signaling-server.js';
import { WebLegFactory } from './signaling/web-leg-factory.js';

export interface GatewayOptions {
  logger?: Logger;
  /** Defaults to a memory directory (single node). */
  directory?: Directory;
  nodeId?: string;
  /** Folder of the built page and SDK; defaults to dist/web in the package. */
  webRoot?: string;
}

/** The anchor's own STUN/TURN servers in node-datachannel's URL form, with fresh TURN REST credentials. */
function anchorIceServers(config: GatewayConfig): string[] {
  const servers = config.ice.stun.map((url) => url.replace(/^stuns?:/, 'stun:'));
  for (const turn of config.ice.turn) {
    const { username, credential } = makeTurnCredentials({ secret: turn.secret, user: 'switchboard', ttlSeconds: turn.ttlSeconds });
    for (const url of turn.urls) {
      const match = /^(turns?):([^?]+)(\?transport=(udp|tcp))?$/.exec(url);
      if (!match) continue;
      const transport = match[4] ? `?transport=${match[4]}` : '';
      servers.push(`${match[1]}:${encodeURIComponent(username)}:${encodeURIComponent(credential)}@${match[2]}${transport}`);
    }
  }
  return servers;
}

/**
 * The composition root: builds every part from the configuration and owns
 * them. `stop()` releases all of it: calls, sockets, listeners.
 */
export class Gateway {
  readonly config: GatewayConfig;
  readonly logger: Logger;
  readonly metrics = new GatewayMetrics();
  readonly directory: Directory;
  readonly router = new Router();
  readonly calls: CallRegistry;
  readonly nodeId: string;
  readonly media: MediaEngine;
  readonly #sessions = new Map<string, BrowserSession>();
  readonly #signaling: SignalingServer;
  readonly #http: Server;
  readonly #stun: StunServer | undefined;
  #stunPort: number | undefined;
  #started = false;

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    this.config = config;
    this.logger = options.logger ?? createLogger({ level: config.log.level });
    this.directory = options.directory ?? new MemoryDirectory();
    this.nodeId = options.nodeId ?? randomUUID();
    const acceptCandidate = makeCandidateFilter(config.ice.candidateNetworks);
    this.media = new MediaEngine({
      rtpHost: config.media.rtpHost,
      announcedAddress: config.media.announcedAddress,
      rtpPorts: { min: config.media.rtpPortMin, max: config.media.rtpPortMax },
      ice: {
        ...(config.media.iceBindAddress ? { bindAddress: config.media.iceBindAddress } : {}),
        ...(config.media.icePortMin ? { portRangeBegin: config.media.icePortMin } : {}),
        ...(config.media.icePortMax ? { portRangeEnd: config.media.icePortMax } : {}),
        iceServers: anchorIceServers(config),
        gatherTimeoutMs: config.media.iceGatherTimeoutMs,
      },
      logger: this.logger.child({ component: 'media' }),
    });
    const mediaLogger = this.logger.child({ component: 'anchor' });
    this.calls = new CallRegistry({
      router: this.router,
      mediaFor: (caller, callee) => this.#mediaFor(caller, callee, acceptCandidate, mediaLogger),
      ringTimeoutMs: config.signaling.ringTimeoutMs,
      logger: this.logger.child({ component: 'calls' }),
    });
    this.#observeCalls();
    this.router.register(['web'], new WebLegFactory(this.directory, this.#sessions, this.nodeId));
    this.router.register(['service'], new ServiceLegFactory(this.media.ports, mediaLogger));
    this.#signaling = new SignalingServer({
      config: config.signaling,
      auth: { secret: config.auth.secret, anonymous: config.auth.anonymous ?? config.auth.secret === undefined },
      nodeId: this.nodeId,
      directory: this.directory,
      sessions: this.#sessions,
      calls: this.calls,
      iceServersFor: (user, host) => buildIceServers(config, user, host, this.#stunPort),
      metrics: this.metrics,
      logger: this.logger.child({ component: 'signaling' }),
    });
    this.#http = createHttpServer({
      routes: {
        '/healthz': (_request, response) => sendJson(response, 200, { status: 'ok' }),
        '/metrics': async (_request, response) => {
          if (!config.metrics.enabled) return sendJson(response, 404, { error: 'metrics disabled' });
          const { contentType, body } = await this.metrics.render();
          response.writeHead(200, { 'content-type': contentType });
          response.end(body);
        },
      },
      staticFiles: new StaticFiles(options.webRoot),
      onUpgrade: (request, socket, head) => this.#signaling.handleUpgrade(request, socket, head),
      logger: this.logger.child({ component: 'http' }),
    });
    if (config.stun.enabled) {
      this.#stun = new StunServer({
        host: config.stun.host,
        port: config.stun.port,
        logger: this.logger.child({ component: 'stun' }),
      });
      this.metrics.stunRequestsSource = () => this.#stun?.stats.requests ?? 0;
    }
  }

  /** Starts listening; resolves with the bound ports (useful with port 0). */
  async start(): Promise<{ httpPort: number; stunPort: number | undefined }> {
    if (this.#started) throw new Error('gateway already started');
    this.#started = true;
    if (this.#stun) this.#stunPort = (await this.#stun.start()).port;
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(this.config.server.port, this.config.server.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    const httpPort = (this.#http.address() as AddressInfo).port;
    this.logger.info(
      { httpPort, stunPort: this.#stunPort, host: this.config.server.host, nodeId: this.nodeId },
      'switchboard gateway listening',
    );
    if (this.config.auth.anonymous ?? this.config.auth.secret === undefined) {
      this.logger.warn('anonymous login is enabled: anyone who reaches this gateway can pick a name');
    }
    return { httpPort, stunPort: this.#stunPort };
  }

  get httpPort(): number {
    return (this.#http.address() as AddressInfo | null)?.port ?? 0;
  }

  get stunPort(): number | undefined {
    return this.#stunPort;
  }

  /** Ends every call, closes every connection and socket. */
  async stop(): Promise<void> {
    this.calls.stopAccepting();
    this.calls.hangupAll('shutdown');
    await this.#signaling.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    await this.#stun?.close();
    await this.directory.close();
    this.logger.info('switchboard gateway stopped');
  }

  /** The media policy (media.mode): relay when both parties do WebRTC and policy allows, else anchor. */
  #mediaFor(caller: Leg, callee: Leg, acceptCandidate: (c: string) => boolean, logger: Logger): MediaSession {
    const bothWebRtc = caller.capabilities.webrtc && callee.capabilities.webrtc;
    const mode = this.config.media.mode;
    if (mode === 'relay' && !bothWebRtc) {
      throw new CallFailedError('incompatible-media', 'media.mode is relay but a party cannot do WebRTC');
    }
    if (mode === 'relay' || (mode === 'auto' && bothWebRtc)) return new RelayMediaSession(acceptCandidate);
    return new AnchorMediaSession(caller, callee, this.media, acceptCandidate, logger);
  }

  #observeCalls(): void {
    const { metrics } = this;
    this.calls.on('callstart', (call) => metrics.activeCalls.inc({ type: call.type }));
    this.calls.on('callanswer', (call, setupMs) => metrics.callSetupSeconds.observe({ type: call.type }, setupMs / 1000));
    this.calls.on('callend', (call, reason) => {
      metrics.activeCalls.dec({ type: call.type });
      metrics.callsEnded.inc({ type: call.type, reason });
    });
  }
}
