import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { AnchorMediaMetrics } from './anchor-media-metrics.js';

/**
 * The gateway's Prometheus metrics, on a registry of its own so that several
 * gateways in one process (tests, benchmarks) do not collide.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly connections = new Gauge({
    name: 'switchboard_websocket_connections',
    help: 'Open browser WebSocket connections',
    registers: [this.registry],
  });

  /** Logged-in sessions of this node, read when scraped (presence events count a whole cluster's users). */
  usersOnlineSource: () => number = () => 0;

  readonly usersOnline = (() => {
    const metrics = this;
    return new Gauge({
      name: 'switchboard_users_online',
      help: 'Logged-in browser users on this node',
      registers: [this.registry],
      collect() {
        this.set(metrics.usersOnlineSource());
      },
    });
  })();

  readonly activeCalls = new Gauge({
    name: 'switchboard_calls_active',
    help: 'Calls in progress, by type (caller scheme - callee scheme)',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  readonly callsEnded = new Counter({
    name: 'switchboard_calls_ended_total',
    help: 'Ended calls, by type and end reason',
    labelNames: ['type', 'reason'] as const,
    registers: [this.registry],
  });

  readonly callSetupSeconds = new Histogram({
    name: 'switchboard_call_setup_seconds',
    help: 'Time from the call request to answer',
    labelNames: ['type'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 60],
    registers: [this.registry],
  });

  readonly signalingErrors = new Counter({
    name: 'switchboard_signaling_errors_total',
    help: 'Error frames sent to browsers, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });

  readonly connectionsRefused = new Counter({
    name: 'switchboard_websocket_refused_total',
    help: 'Browser WebSocket connections turned away by the connection limits, by status (429 per source, 503 in all)',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });

  readonly sessionsDetached = new Counter({
    name: 'switchboard_sessions_detached_total',
    help: 'Logged-in sessions whose WebSocket dropped (no close frame, or a missed ping) and that wait signaling.resumeWindowMs for a resume',
    registers: [this.registry],
  });

  readonly sessionResumes = new Counter({
    name: 'switchboard_session_resumes_total',
    help: 'Session resumes, by outcome: resumed, refused (unknown, spent or foreign token; frames lost), expired (the window passed; the calls ended)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly iceRestarts = new Counter({
    name: 'switchboard_ice_restarts_total',
    help: 'ICE restarts parties made during calls (re-offers with new ICE credentials), by call type and media path (relay: passed on; anchor: answered with a new anchor endpoint)',
    labelNames: ['type', 'media'] as const,
    registers: [this.registry],
  });

  readonly announcedAddressMismatches = new Counter({
    name: 'switchboard_announced_address_mismatch_total',
    help: 'Browser connections that reached the gateway through NAT at an address other than the one media announces (media.announcedAddress): such parties may hear nothing',
    registers: [this.registry],
  });

  readonly xmppStreamResumptions = new Counter({
    name: 'switchboard_xmpp_stream_resumptions_total',
    help: 'XEP-0198 resumptions of the gateway\'s dropped XMPP client streams, by outcome (resumed; failed: a new session instead, its calls end; timeout: calls ended after xmpp.resumeGraceMs)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly uncaughtErrors = new Counter({
    name: 'switchboard_uncaught_errors_total',
    help: 'Exceptions and rejections nothing handled (logged, the process goes on): each is a bug to report',
    registers: [this.registry],
  });

  /** Packets, loss and jitter of anchored calls, by call type. */
  readonly anchorMedia = new AnchorMediaMetrics(this.registry);

  /** Where the STUN request count is read from at scrape time (the responder counts itself). */
  stunRequestsSource: () => number = () => 0;

  readonly stunRequests = (() => {
    const metrics = this;
    let reported = 0;
    return new Counter({
      name: 'switchboard_stun_requests_total',
      help: 'Binding requests received by the embedded STUN responder',
      registers: [this.registry],
      collect() {
        const current = metrics.stunRequestsSource();
        if (current > reported) this.inc(current - reported);
        reported = current;
      },
    });
  })();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchboard_' });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
