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
import { FileSubscriptionStore } from './directory/file-subscription-store.js';
import type { PresenceSubscriptionStore } from './directory/presence-subscriptions.js';
import { createHttpServer, sendJson } from './http/http-server.js';
import { StaticFiles } from './http/static-files.js';
import { createAdminApi } from './http/admin-api.js';
import { makeCandidateFilter } from './ice/candidate-filter.js';
import { buildIceServers } from './ice/ice-servers.js';
import { StunServer } from './ice/stun-server.js';
import { makeTurnCredentials } from './ice/turn-credentials.js';
import { createLogger, type Logger } from './logging/logger.js';
import { CallFailedError, GatewayError } from './errors/gateway-error.js';
import { readOpenFileLimit, shareOfOpenFiles } from './ops/open-file-limit.js';
import { HTTP_LISTENER, sipListener, STUN_LISTENER } from './ops/gateway-listeners.js';
import { explainListenError, type Listener } from './ops/listen-error.js';
import { AnchorMediaSession } from './media/anchor-media-session.js';
import { AnnouncedAddressCheck } from './media/announced-address-check.js';
import { MediaEngine } from './media/media-engine.js';
import { ServiceLegFactory } from './services/service-leg-factory.js';
import { SipAdapter, type SipAdapterOptions } from '../adapters/sip/index.js';
import { XmppAdapter, type XmppClusterOptions } from '../adapters/xmpp/index.js';
import { ChatRouter } from './messaging/chat-router.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { BrowserSession } from './signaling/browser-session.js';
import { SignalingServer } from './signaling/signaling-server.js';
import { WebChatDelivery } from './signaling/web-chat-delivery.js';
import { WebLegFactory } from './signaling/web-leg-factory.js';
import { ClusterNode } from './cluster/cluster-node.js';
import { SessionPartyHost } from './signaling/session-party-host.js';

export interface GatewayOptions {
  logger?: Logger;
  /** Re-reads the configuration for `reload()` (SIGHUP, POST /admin/reload); the CLI passes its file loader. */
  loadConfig?: () => GatewayConfig;
  /** Defaults to a memory directory (single node). */
  directory?: Directory;
  nodeId?: string;
  /** Folder of the built page and SDK; defaults to dist/web in the package. */
  webRoot?: string;
  /** For tests only: a session timer floor below RFC 4028's 90 s (see SipAdapterOptions). */
  sipAdapter?: Pick<SipAdapterOptions, 'sessionTimerFloorSeconds'>;
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

/** Awaits a listener's start; a bind or listen failure a setting can fix is rethrown as a ListenError. */
async function opening<T>(starting: Promise<T>, listenerOf: (protocol: 'TCP' | 'UDP', port: number) => Listener, host: string): Promise<T> {
  try {
    return await starting;
  } catch (error) {
    throw explainListenError(error, listenerOf, host);
  }
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
  readonly chat = new ChatRouter();
  readonly calls: CallRegistry;
  readonly nodeId: string;
  readonly media: MediaEngine;
  readonly #sessions = new Map<string, BrowserSession>();
  readonly #signaling: SignalingServer;
  readonly #http: Server;
  readonly #stun: StunServer | undefined;
  readonly #sip: SipAdapter | undefined;
  readonly #xmpp: XmppAdapter | undefined;
  #stunPort: number | undefined;
  #started = false;
  #draining = false;
  #acceptCandidate: (candidate: string) => boolean;
  readonly #componentLoggers: Logger[] = [];
  readonly #loadConfig: (() => GatewayConfig) | undefined;
  /** This process as a node of a cluster (`directory.kind: redis`). */
  readonly cluster: ClusterNode | undefined;

  constructor(config: GatewayConfig, options: GatewayOptions = {}) {
    this.config = config;
    this.logger = options.logger ?? createLogger({ level: config.log.level });
    this.nodeId = options.nodeId ?? config.cluster.nodeId ?? randomUUID();
    if (!options.directory && config.directory.kind === 'redis') {
      this.cluster = new ClusterNode({
        directory: config.directory,
        cluster: config.cluster,
        nodeId: this.nodeId,
        advertise: config.cluster.advertise ?? config.sip.advertisedHost ?? config.media.announcedAddress ?? config.server.host,
        host: new SessionPartyHost(this.#sessions, () => this.calls.accepting, {
          // The node holding the XMPP component reaches XMPP addresses for the other nodes.
          hostLeg: (request) => (request.target.scheme === 'xmpp' && this.#xmpp?.holdsComponent ? this.#xmpp.createLegHere(request) : undefined),
          hostChat: (message) => (message.to.scheme === 'xmpp' && this.#xmpp?.holdsComponent ? this.#xmpp.deliverHere(message) : undefined),
        }),
        logger: this.#component('cluster'),
      });
    }
    this.directory = options.directory ?? this.cluster?.directory ?? new MemoryDirectory();
    this.metrics.usersOnlineSource = () => this.#sessions.size;
    this.#loadConfig = options.loadConfig;
    this.#acceptCandidate = makeCandidateFilter(config.ice.candidateNetworks);
    // Reads the current filter on every call, so a reload that changes the networks applies at once.
    const acceptCandidate = (candidate: string) => this.#acceptCandidate(candidate);
    this.media = new MediaEngine({
      rtpHost: config.media.rtpHost,
      announcedAddress: config.media.announcedAddress,
      rtpPorts: { min: config.media.rtpPortMin, max: config.media.rtpPortMax },
      ice: {
        ...(config.media.iceBindAddress ? { bindAddress: config.media.iceBindAddress } : {}),
        ...(config.media.icePortMin ? { portRangeBegin: config.media.icePortMin } : {}),
        ...(config.media.icePortMax ? { portRangeEnd: config.media.icePortMax } : {}),
        ...(config.media.iceUdpMux ? { portRangeBegin: config.media.iceUdpMux.port, portRangeEnd: config.media.iceUdpMux.port, udpMux: true } : {}),
        iceServers: anchorIceServers(config),
        gatherTimeoutMs: config.media.iceGatherTimeoutMs,
      },
      inactivity: { timeoutMs: config.media.inactivityTimeoutMs, holdTimeoutMs: config.media.holdInactivityTimeoutMs },
      logger: this.#component('media'),
    });
    const mediaLogger = this.#component('anchor');
    this.calls = new CallRegistry({
      router: this.router,
      mediaFor: (caller, callee) => this.#mediaFor(caller, callee, acceptCandidate, mediaLogger),
      ringTimeoutMs: config.signaling.ringTimeoutMs,
      logger: this.#component('calls'),
    });
    this.#observeCalls();
    this.router.register(['web'], new WebLegFactory(this.directory, this.#sessions, this.nodeId, this.cluster?.parties));
    this.chat.register(['web'], new WebChatDelivery(this.directory, this.#sessions, this.nodeId, this.cluster?.parties));
    this.router.register(['service'], new ServiceLegFactory(this.media.ports, mediaLogger));
    if (config.sip.enabled) {
      this.#sip = new SipAdapter({
        config: config.sip,
        trustedProxies: config.server.trustedProxies,
        calls: this.calls,
        chat: this.chat,
        logger: this.#component('sip'),
        defaultAdvertisedHost: this.media.announcedAddress,
        ringTimeoutMs: config.signaling.ringTimeoutMs,
        ...options.sipAdapter,
      });
      this.router.register(['sip', 'sips', 'tel'], this.#sip);
      this.chat.register(['sip', 'sips', 'tel'], this.#sip);
    }
    if (config.xmpp.enabled) {
      this.#xmpp = new XmppAdapter({
        config: config.xmpp,
        calls: this.calls,
        chat: this.chat,
        logger: this.#component('xmpp'),
        onIceServers: (servers) => this.media.setDiscoveredIceServers('xmpp', servers),
        onStreamResumption: (outcome) => this.metrics.xmppStreamResumptions.inc({ outcome }),
        ...(this.cluster ? { cluster: this.#xmppCluster(this.cluster, config.xmpp) } : {}),
        ...this.#xmppSubscriptions(config.xmpp),
      });
      this.router.register(['xmpp'], this.#xmpp);
      this.chat.register(['xmpp'], this.#xmpp);
    }
    this.#signaling = new SignalingServer({
      config: config.signaling,
      auth: {
        get secret() {
          return config.auth.secret;
        },
        get anonymous() {
          return config.auth.anonymous ?? config.auth.secret === undefined;
        },
        get guestPrefix() {
          return config.auth.guestPrefix;
        },
      },
      nodeId: this.nodeId,
      directory: this.directory,
      sessions: this.#sessions,
      calls: this.calls,
      chat: this.chat,
      iceServersFor: (user, host) => buildIceServers(config, user, host, this.#stunPort),
      metrics: this.metrics,
      announcedAddressCheck: new AnnouncedAddressCheck(
        this.media.announcedAddress,
        config.media.announcedAddress !== undefined,
        this.#component('media'),
        this.metrics.announcedAddressMismatches,
      ),
      registrars: [...(this.#sip ? [this.#sip] : []), ...(this.#xmpp ? [this.#xmpp] : [])],
      logger: this.#component('signaling'),
    }, config.server.trustedProxies, shareOfOpenFiles(readOpenFileLimit(), 1 / 4, { min: 64, max: 100_000 }));
    this.#http = createHttpServer({
      routes: {
        '/healthz': (_request, response) => sendJson(response, 200, { status: 'ok' }),
        // Ready for new users and calls; a draining node says no so load balancers move on.
        '/readyz': (_request, response) =>
          this.#draining
            ? sendJson(response, 503, { status: 'draining', calls: this.calls.size })
            : sendJson(response, 200, { status: 'ready' }),
        '/metrics': async (_request, response) => {
          if (!config.metrics.enabled) return sendJson(response, 404, { error: 'metrics disabled' });
          const { contentType, body } = await this.metrics.render();
          response.writeHead(200, { 'content-type': contentType });
          response.end(body);
        },
      },
      prefixRoutes: {
        '/admin/': createAdminApi({
          token: () => this.config.admin.token,
          calls: this.calls,
          directory: this.directory,
          reload: () => this.reload(),
        }),
      },
      staticFiles: new StaticFiles(options.webRoot),
      onUpgrade: (request, socket, head) =>
        this.#signaling.handleUpgrade(request, socket, head) || (this.#sip?.handleUpgrade(request, socket, head) ?? false),
      headersTimeoutMs: config.server.headersTimeoutMs,
      logger: this.#component('http'),
    });
    if (config.stun.enabled) {
      this.#stun = new StunServer({
        host: config.stun.host,
        port: config.stun.port,
        logger: this.#component('stun'),
      });
      this.metrics.stunRequestsSource = () => this.#stun?.stats.requests ?? 0;
    }
  }

  /** Starts listening; resolves with the bound ports (useful with port 0). */
  async start(): Promise<{ httpPort: number; stunPort: number | undefined }> {
    if (this.#started) throw new Error('gateway already started');
    this.#started = true;
    const { server, stun, sip } = this.config;
    await this.cluster?.start();
    // A port in use or refused becomes a ListenError naming the key to change (the CLI prints it once).
    if (this.#stun) this.#stunPort = (await opening(this.#stun.start(), () => STUN_LISTENER, stun.host)).port;
    if (this.#sip) await opening(this.#sip.start(), sipListener(sip), sip.host);
    await this.#xmpp?.start();
    const listening = new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(server.port, server.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    await opening(listening, () => HTTP_LISTENER, server.host);
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

  /** The SIP adapter, when enabled (its bound addresses, for tests and logs). */
  get sip(): SipAdapter | undefined {
    return this.#sip;
  }

  get xmpp(): XmppAdapter | undefined {
    return this.#xmpp;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Graceful shutdown: refuse new calls and connections, let calls in progress
   * run for up to `timeoutMs`, then end the rest with `shutdown`. Resolves
   * when no call is left.
   */
  async drain(timeoutMs = this.config.server.drainTimeoutMs): Promise<void> {
    this.#draining = true;
    this.calls.stopAccepting();
    this.#signaling.drain();
    this.logger.info({ calls: this.calls.size, timeoutMs }, 'draining');
    const deadline = Date.now() + timeoutMs;
    while (this.calls.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(1, deadline - Date.now()))));
    }
    if (this.calls.size > 0) {
      this.logger.info({ calls: this.calls.size }, 'drain time over: ending the remaining calls');
      this.calls.hangupAll('shutdown');
    }
  }

  /**
   * Re-reads the configuration and applies what can change while running:
   * log level, auth, signaling limits, ICE servers and candidate networks,
   * admin token. Listening addresses and ports need a restart.
   */
  async reload(): Promise<{ applied: string[]; restartRequired: string[] }> {
    if (!this.#loadConfig) throw new Error('this gateway was started without a configuration source to reload');
    const next = this.#loadConfig();
    const applied: string[] = [];
    const restartRequired: string[] = [];
    const changed = (key: keyof GatewayConfig) => JSON.stringify(this.config[key]) !== JSON.stringify(next[key]);
    for (const key of ['log', 'auth', 'signaling', 'ice', 'admin'] as const) {
      if (!changed(key)) continue;
      // In place: components hold references to these sections. Keys dropped from the file are dropped here too.
      const section = this.config[key] as Record<string, unknown>;
      for (const name of Object.keys(section)) delete section[name];
      Object.assign(section, next[key]);
      applied.push(key);
    }
    for (const key of ['server', 'stun', 'media', 'metrics'] as const) {
      if (changed(key)) restartRequired.push(key);
    }
    if (applied.includes('ice')) this.#acceptCandidate = makeCandidateFilter(this.config.ice.candidateNetworks);
    if (applied.includes('log')) {
      for (const logger of [this.logger, ...this.#componentLoggers]) logger.level = this.config.log.level;
    }
    this.logger.info({ applied, restartRequired }, 'configuration reloaded');
    return { applied, restartRequired };
  }

  /** Ends every call, closes every connection and socket. */
  async stop(): Promise<void> {
    this.calls.stopAccepting();
    this.calls.hangupAll('shutdown');
    this.cluster?.parties.shutdown();
    this.media.close();
    await this.#signaling.close();
    await new Promise<void>((resolve) => {
      this.#http.close(() => resolve());
      this.#http.closeAllConnections();
    });
    await this.#stun?.close();
    await this.#sip?.close();
    await this.#xmpp?.close();
    await this.cluster?.stop();
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
    if (mode === 'relay' || (mode === 'auto' && bothWebRtc)) return new RelayMediaSession(acceptCandidate, { caller, callee }, this.config.ice.turn.length > 0);
    return new AnchorMediaSession(caller, callee, this.media, acceptCandidate, logger);
  }

  /**
   * Where the XMPP component keeps its presence subscriptions: Redis when the cluster directory is
   * there (whichever node holds the component next reads them), else `subscribersFile`, else memory.
   */
  #xmppSubscriptions(xmpp: GatewayConfig['xmpp']): { subscriptions?: PresenceSubscriptionStore } {
    const component = xmpp.component;
    if (!component) return {};
    if (this.cluster) return { subscriptions: this.cluster.subscriptionStore(component.domain) };
    if (component.subscribersFile) return { subscriptions: new FileSubscriptionStore(component.subscribersFile, this.#component('xmpp-subscriptions')) };
    return {};
  }

  /**
   * XMPP in a cluster: one node holds the component (a lease), the others go through that node;
   * one node binds the service account's own resource; per-user resources and logins stay per node.
   */
  #xmppCluster(cluster: ClusterNode, xmpp: GatewayConfig['xmpp']): XmppClusterOptions {
    const componentLease = xmpp.component ? cluster.lease(`xmpp-component:${xmpp.component.domain}`) : undefined;
    const holder = async () => {
      const node = await componentLease?.holder().catch(() => undefined);
      if (!node) throw new CallFailedError('unreachable', 'no node holds the XMPP component right now');
      return node;
    };
    return {
      ...(componentLease ? { componentLease } : {}),
      ...(xmpp.service ? { serviceLease: cluster.lease(`xmpp-service:${xmpp.service.jid}`) } : {}),
      presence: {
        users: async () => (await this.directory.list()).map((entry) => entry.user),
        subscribe: (listener) => {
          const onPresence = (user: string, status: string) => listener(user, status === 'online');
          this.directory.on('presence', onPresence);
          return () => this.directory.off('presence', onPresence);
        },
      },
      forwardLeg: async (request) => {
        const node = await holder();
        return node === this.nodeId ? this.#xmpp!.createLegHere(request) : cluster.parties.createLeg(node, request);
      },
      forwardChat: async (message) => {
        const node = await holder().catch((error: CallFailedError) => {
          throw new GatewayError('undeliverable', error.message);
        });
        return node === this.nodeId ? this.#xmpp!.deliverHere(message) : cluster.parties.deliverChat(node, message);
      },
    };
  }

  #component(name: string): Logger {
    const logger = this.logger.child({ component: name });
    this.#componentLoggers.push(logger);
    return logger;
  }

  #observeCalls(): void {
    const { metrics } = this;
    this.calls.on('callstart', (call) => {
      metrics.activeCalls.inc({ type: call.type });
      const { media } = call;
      if (media instanceof AnchorMediaSession) metrics.anchorMedia.track(call, call.type, () => media.quality());
    });
    this.calls.on('callanswer', (call, setupMs) => metrics.callSetupSeconds.observe({ type: call.type }, setupMs / 1000));
    this.calls.on('icerestart', (call) => metrics.iceRestarts.inc({ type: call.type, media: call.media.mode }));
    this.calls.on('callend', (call, reason) => {
      metrics.activeCalls.dec({ type: call.type });
      metrics.callsEnded.inc({ type: call.type, reason });
      metrics.anchorMedia.end(call);
    });
  }
}
