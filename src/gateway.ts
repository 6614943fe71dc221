import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CallRegistry } from './calls/call-registry.js';
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
import { createLogger, type Logger } from './logging/logger.js';
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
    this.calls = new CallRegistry({
      router: this.router,
      mediaFor: () => new RelayMediaSession(acceptCandidate),
      ringTimeoutMs: config.signaling.ringTimeoutMs,
      logger: this.logger.child({ component: 'calls' }),
    });
    this.#observeCalls();
    this.router.register(['web'], new WebLegFactory(this.directory, this.#sessions, this.nodeId));
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
