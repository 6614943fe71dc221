import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { z } from 'zod';

/**
 * The gateway's whole configuration, in one schema: defaults, validation and
 * the README's option table come from here. Every option has a default that
 * is safe on a single machine, so an empty config starts a working gateway.
 * Objects are strict: a misspelt key is an error that names it, not a silently
 * ignored option.
 */

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

const cidr = z.string().refine((value) => {
  const [address, bits, extra] = value.split('/');
  if (extra !== undefined || !address) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return Number.isInteger(n) && n >= 0 && n <= (family === 4 ? 32 : 128);
}, 'expected an IP address or CIDR block such as 127.0.0.0/8');

const iceUrl = (schemes: string[]) =>
  z
    .string()
    .refine(
      (url) => schemes.some((scheme) => url.startsWith(`${scheme}:`)),
      `expected a URL starting with ${schemes.map((s) => `${s}:`).join(' or ')}`,
    );

const regExpSource = z.string().min(1).refine(isRegExp, 'expected a valid regular expression');

/** Who a rule applies to: token users (all, by name, or by their token's `groups` claim), and guests only when asked. */
const audienceFields = {
  /** Token users by name (the token's `sub`). */
  users: z.array(z.string().min(1)).optional(),
  /** Token users whose `groups` claim holds one of these. */
  groups: z.array(z.string().min(1)).optional(),
  /** Anonymous (guest) web users as well; never by default. */
  guests: z.boolean().optional(),
};

const serverSchema = z
  .strictObject({
    /** Address the HTTP/WebSocket server listens on. */
    host: host.default('0.0.0.0'),
    /** HTTP/WebSocket port; 0 picks a free one. */
    port: port.default(8080),
    /** On SIGTERM, calls in progress may go on this long before they are ended with `shutdown`. */
    drainTimeoutMs: z.number().int().min(0).default(30_000),
    /**
     * TLS terminators or load balancers in front of the gateway (addresses or CIDR blocks): for
     * connections from them, the client is read from X-Forwarded-For, so per-source limits see
     * clients rather than the proxy. Empty: the TCP peer is the client, and the header is ignored.
     */
    trustedProxies: z.array(cidr).default([]),
    /** A client must finish sending an HTTP request's headers (a WebSocket upgrade included) within this. */
    headersTimeoutMs: z.number().int().positive().default(10_000),
  })
  .prefault({});

const logSchema = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .prefault({});

const authSchema = z
  .strictObject({
    /** HMAC-SHA256 secret for access tokens. Unset: only anonymous login. */
    secret: z.string().min(16, 'must be at least 16 characters').optional(),
    /** Allow login with a bare name. Default: on when no secret is set, off otherwise. */
    anonymous: z.boolean().optional(),
    /** Lifetime of tokens minted by `switchboard token`. */
    tokenTtlSeconds: z.number().int().positive().default(3600),
    /**
     * With both token and anonymous login on, a guest who picks the name `bob` is `web:guest-bob`, so
     * no guest can pass for a token user; tokens whose subject starts with it are refused.
     */
    guestPrefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,15}$/, 'expected 1-16 of A-Z a-z 0-9 . _ - starting with a letter or digit').default('guest-'),
  })
  .prefault({});

const signalingSchema = z
  .strictObject({
    /** Frames larger than this close the socket with 1009. */
    maxFrameBytes: z.number().int().min(1024).default(64 * 1024),
    /** Token bucket per connection: sustained rate and burst. */
    rateLimit: z
      .strictObject({
        messagesPerSecond: z.number().positive().default(50),
        burst: z.number().int().positive().default(100),
        /** Dropped frames tolerated before the socket is closed with 1008. */
        maxViolations: z.number().int().positive().default(200),
      })
      .prefault({}),
    loginTimeoutMs: z.number().int().positive().default(10_000),
    /** WebSocket ping interval; a peer that misses one is dropped. */
    pingIntervalMs: z.number().int().positive().default(30_000),
    /**
     * How long a logged-in session and its calls wait for the browser to come back (`resume`) after
     * its WebSocket dropped without a close frame or missed a ping; 0: the calls end at once.
     */
    resumeWindowMs: z.number().int().min(0).max(300_000).default(30_000),
    maxCallsPerConnection: z.number().int().positive().default(4),
    /**
     * Browser WebSocket connections in all (refused with HTTP 503 beyond); 0: no limit but the file
     * descriptors. Unset: a quarter of the process's open-file limit, 64 to 100,000 (256 at the
     * usual 1024), so browsers cannot take the descriptors calls and SIP need.
     */
    maxConnections: z.number().int().min(0).optional(),
    /** Connections from one source address, logged in or not (an office behind one NAT counts once): HTTP 429 beyond. */
    maxConnectionsPerSource: z.number().int().positive().default(100),
    /** Connections from one source address that have not logged in yet: HTTP 429 beyond. */
    maxPendingLoginsPerSource: z.number().int().positive().default(10),
    /** Calls placed from one source address at once, over all its connections (`too-many-calls` beyond). */
    maxCallsPerSource: z.number().int().positive().default(20),
    /** An unanswered call ends with `no-answer` after this. */
    ringTimeoutMs: z.number().int().positive().default(60_000),
  })
  .prefault({});

const turnServerSchema = z.strictObject({
  urls: z.array(iceUrl(['turn', 'turns'])).min(1),
  /** coturn's `static-auth-secret` (TURN REST API). */
  secret: z.string().min(1),
  ttlSeconds: z.number().int().positive().default(86_400),
});

const iceSchema = z
  .strictObject({
    /**
     * Host name or address browsers use to reach this gateway's STUN responder.
     * Unset: the host the browser used to open the WebSocket.
     */
    publicHost: host.optional(),
    /** Extra STUN servers handed to browsers. */
    stun: z.array(iceUrl(['stun', 'stuns'])).default([]),
    turn: z.array(turnServerSchema).default([]),
    /**
     * Only ICE candidates whose address is inside one of these blocks are
     * passed between parties (and `.local` mDNS names are dropped). Empty: all.
     */
    candidateNetworks: z.array(cidr).default([]),
  })
  .prefault({});

const stunSchema = z
  .strictObject({
    /** The embedded STUN responder (RFC 5389 Binding over UDP). */
    enabled: z.boolean().default(true),
    host: host.default('0.0.0.0'),
    port: port.default(3478),
  })
  .prefault({});

const mediaSchema = z
  .strictObject({
    /**
     * auto: end to end when both parties do WebRTC, through the gateway otherwise;
     * anchor: always through the gateway; relay: never (calls needing an anchor fail).
     */
    mode: z.enum(['auto', 'anchor', 'relay']).default('auto'),
    /** Address the anchor's RTP sockets bind to. */
    rtpHost: host.default('0.0.0.0'),
    /** RTP port range (even RTP port, odd RTCP port). */
    rtpPortMin: port.default(20000),
    rtpPortMax: port.default(29999),
    /**
     * The address parties must send media to, written into SDP and candidates:
     * the public IP behind NAT (Docker, cloud). Unset: the bind address, or the
     * first external interface when binding to all.
     */
    announcedAddress: z.string().refine((v) => isIP(v) !== 0, 'expected an IP address').optional(),
    /** The anchor's ICE: host candidates only on this address (unset: every interface). */
    iceBindAddress: z.string().refine((v) => isIP(v) !== 0, 'expected an IP address').optional(),
    icePortMin: port.optional(),
    icePortMax: port.optional(),
    /**
     * Every anchored WebRTC leg on this one UDP port (libjuice's mux mode: datagrams go to the
     * call by their ICE username), instead of a port per leg: one port to publish or open in a
     * firewall. Not with icePortMin/icePortMax.
     */
    iceUdpMux: z.strictObject({ port: port.refine((value) => value > 0, 'expected a port above 0') }).optional(),
    /** Longest wait for the anchor's ICE gathering before it answers with what it has. */
    iceGatherTimeoutMs: z.number().int().positive().default(3000),
    /**
     * An anchored plain-RTP party that sends neither RTP nor RTCP for this long
     * (while both parties are sendrecv) has vanished: the call ends with
     * `media-timeout`. Long enough for phones that suppress silence (VAD) and
     * report by RTCP only every few seconds. 0: never.
     */
    inactivityTimeoutMs: z.number().int().nonnegative().default(60_000),
    /**
     * The same while the call is on hold (a party's direction is sendonly,
     * recvonly or inactive). Held phones often send nothing at all, not even
     * the RTCP RFC 3264 section 5.1 asks for, and holds can be long. 0: never.
     */
    holdInactivityTimeoutMs: z.number().int().nonnegative().default(0),
  })
  .refine((m) => m.rtpPortMin < m.rtpPortMax, { message: 'rtpPortMin must be below rtpPortMax', path: ['rtpPortMin'] })
  .refine((m) => !m.iceUdpMux || (m.icePortMin === undefined && m.icePortMax === undefined), {
    message: 'media.iceUdpMux puts every leg on one port: leave icePortMin/icePortMax unset',
    path: ['iceUdpMux'],
  })
  .prefault({});

const sipUri = z.string().regex(/^sips?:[^\s<>"]+$/, 'expected a sip: or sips: URI');

const sipSchema = z
  .strictObject({
    /** The SIP adapter: phones, PBXs and trunks call web users, and web users call them. */
    enabled: z.boolean().default(true),
    /** Listening address for SIP over UDP and TCP (and TLS). */
    host: host.default('0.0.0.0'),
    /** UDP and TCP port (RFC 3261: 5060); 0 picks a free one. */
    port: port.default(5060),
    udp: z.boolean().default(true),
    tcp: z.boolean().default(true),
    /** SIP over WebSocket (RFC 7118) on the HTTP server at /sip. */
    ws: z.boolean().default(true),
    tls: z
      .strictObject({ port: port.default(5061), certFile: z.string().min(1), keyFile: z.string().min(1) })
      .optional(),
    /** Host written in Via and Contact: the address peers reach the gateway at. Unset: media.announcedAddress or the first external IPv4. */
    advertisedHost: host.optional(),
    /** The gateway's SIP domain in From and in URIs it accepts. Unset: the advertised host. */
    domain: host.optional(),
    inbound: z
      .strictObject({
        /**
         * Request-URI user -> web user, first match wins: `{ match: '^\\+1555(\\d+)$', user: 'ext$1' }`.
         * Unmatched users that are valid web user names map to themselves.
         */
        rules: z.array(z.strictObject({ match: z.string().min(1), user: z.string().min(1) })).default([]),
        /** Where calls to unknown users go; unset: 404. */
        defaultUser: z.string().optional(),
        /** Only these source networks may send INVITEs (trunks, the PBX); empty: anyone. */
        allowedSources: z.array(cidr).default([]),
        /**
         * INVITE flood protection per source (the packet's address; an IPv6 /64): new INVITEs per
         * second one source may send; excess gets 503 with Retry-After.
         */
        invitesPerSecond: z.number().positive().default(20),
        /** The ceiling over all sources together, so many sources cannot flood either; excess gets 503 with Retry-After. */
        invitesPerSecondTotal: z.number().positive().default(100),
        /**
         * MESSAGE (chat, RFC 3428) flood protection, as for INVITEs: new messages per second one
         * source may send, and all sources together; excess gets 503 with Retry-After.
         */
        messagesPerSecond: z.number().positive().default(5),
        messagesPerSecondTotal: z.number().positive().default(50),
        /**
         * Requests of any method per second from one source (an IPv6 /64 counts as one), and from all
         * sources together: each costs a full parse, so a flood of OPTIONS or garbage is dropped
         * unanswered beyond these (a trunk carrying many calls may need more).
         */
        requestsPerSecond: z.number().positive().default(200),
        requestsPerSecondTotal: z.number().positive().default(1000),
      })
      .prefault({}),
    outbound: z
      .strictObject({
        /** Outbound proxy / trunk every outgoing call is routed through (loose route). */
        proxy: sipUri.optional(),
        /** Digest credentials for the trunk when it challenges (RFC 8760). */
        username: z.string().optional(),
        password: z.string().optional(),
        /**
         * Who may reach which SIP and `tel:` destinations, first matching rule decides, nothing
         * unless a rule allows it (toll fraud). `match` is a regular expression on the address as
         * dialled, in canonical form: `tel:+15551234567`, `sip:bob@pbx.example.com`. Allow rules
         * apply to every token user unless `users`/`groups` narrow them, to guests only with
         * `guests: true`, to SIP parties (their REFERs) only from `sources`; deny rules without an
         * audience apply to everyone.
         */
        dialPlan: z
          .array(
            z.strictObject({
              match: regExpSource,
              action: z.enum(['allow', 'deny']).default('allow'),
              ...audienceFields,
              /** SIP parties whose requests really come from these networks (a trusted PBX's REFERs). */
              sources: z.array(cidr).optional(),
            }),
          )
          .default([]),
        /** Replaced by `dialPlan`; kept only to say so. */
        allow: z
          .unknown()
          .refine((value) => value === undefined, 'sip.outbound.allow was replaced by sip.outbound.dialPlan (rules with an audience; see the README section Security)')
          .optional(),
      })
      .prefault({}),
    /** SIP accounts registered for web users while they are online (a login may bring its own instead). */
    accounts: z
      .array(
        z.strictObject({
          /** The web user this account belongs to. */
          user: z.string().min(1),
          aor: sipUri,
          password: z.string().min(1),
          username: z.string().min(1).optional(),
          registrar: sipUri.optional(),
        }),
      )
      .default([]),
    /**
     * SIP accounts a web user may bring in `login.sip` (accounts in `sip.accounts` are the operator's
     * own and always registered): only AORs in these domains, registered at the domain's own
     * registrar (`sip:<domain>` unless `registrar` names another), for the audience given. Empty:
     * logins cannot bring SIP accounts, so the gateway never sends REGISTERs to hosts users choose.
     */
    registration: z
      .strictObject({
        domains: z
          .array(
            z.strictObject({
              /** The AORs' host part exactly as written (with `:port` when the AORs carry one). */
              domain: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/, 'expected a domain name, or host:port'),
              registrar: sipUri.optional(),
              ...audienceFields,
            }),
          )
          .default([]),
      })
      .prefault({}),
    /**
     * The cluster's SIP edge (Kamailio, docker/kamailio/kamailio-cluster.cfg): every web user online
     * on this node is registered there as `sip:<user>@<domain>` with this node's own Contact, so
     * INVITEs from phones and trunks to that address reach the node that holds the user. Unset: none.
     */
    edge: z
      .strictObject({
        /** The edge's registrar, e.g. `sip:10.0.0.5:5060`. Point `sip.outbound.proxy` at it too, for calls out. */
        registrar: sipUri,
        /** The domain of the users' addresses there (`host` or `host:port`). */
        domain: z.string().regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]{1,253})(:\d{1,5})?$/, 'expected a domain name, or host:port'),
        /** Registration lifetime: how long the edge keeps routing to a node that died without unregistering. */
        expiresSeconds: z.number().int().min(60).default(120),
      })
      .optional(),
    /**
     * RFC 3263 server location: a target, registrar or `outbound.proxy` named by a domain without a
     * port is looked up as SIP does (NAPTR, SRV, A/AAAA), and its targets are tried in turn.
     */
    dns: z
      .strictObject({
        /** DNS servers to ask (`ip` or `ip:port`); empty: the system's (names in /etc/hosts then work too). */
        servers: z
          .array(z.string().regex(/^(\d{1,3}(\.\d{1,3}){3}(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, 'expected an IP address, ip:port or [ipv6]:port'))
          .default([]),
        /** Most servers tried for one request (SRV targets times their addresses); a dialled domain cannot make it more. */
        maxTargets: z.number().int().min(1).max(32).default(8),
        /** Most DNS queries for one next hop. */
        maxQueries: z.number().int().min(1).max(64).default(16),
        /** The whole lookup of one next hop ends after this long, with what it found by then. */
        timeoutMs: z.number().int().min(100).max(30_000).default(4000),
        /** Answers are kept this long at most (A/AAAA: their TTL when shorter; node gives no TTL for NAPTR and SRV). 0: not kept. */
        cacheSeconds: z.number().int().min(0).max(3600).default(60),
        /**
         * A server that sends no response at all for this long gives way to the next target (RFC 3263
         * section 4.3; a 503 without Retry-After and a refused connection do at once). 0: only those.
         */
        failoverAfterMs: z.number().int().min(0).max(30_000).default(5000),
      })
      .prefault({}),
    /** Registration lifetime asked of registrars (RFC 3261 section 10.2.1); sip.js refreshes before it ends. */
    registerExpiresSeconds: z.number().int().min(60).default(600),
    /**
     * Session-Expires the gateway asks for on its outgoing calls (RFC 4028 section 7.1): the
     * called party refreshes, or the gateway does by UPDATE or re-INVITE, within this many seconds.
     */
    sessionExpiresSeconds: z.number().int().min(90).default(1800),
    /**
     * OPTIONS to `outbound.proxy` and to the registrars of registered accounts every this many
     * seconds over UDP, so NAT bindings stay open; 0: off. Streams use CRLF keep-alives instead.
     */
    keepAliveSeconds: z.number().int().min(0).default(30),
    /** What SIP peers may hold of the gateway, so SIP under attack cannot starve the HTTP/WebSocket side. */
    limits: z
      .strictObject({
        /**
         * Inbound SIP connections at once over TCP, TLS and WebSocket (`/sip`), all sources together;
         * more are closed as they are accepted (WebSocket upgrades: HTTP 503). Unset: a quarter of
         * the process's open-file limit (the soft RLIMIT_NOFILE from /proc/self/limits on Linux,
         * 1024 assumed elsewhere), between 16 and 10,000: 256 at the usual 1024.
         */
        maxConnections: z.number().int().min(1).optional(),
        /** Inbound SIP connections at once from one source address (an IPv6 /64); more are refused the same way. */
        maxConnectionsPerSource: z.number().int().min(1).default(32),
        /**
         * A TCP or TLS connection must finish its TLS handshake, send its first SIP message, and
         * complete every message it begins (headers and body) within this many milliseconds.
         */
        headerTimeoutMs: z.number().int().min(100).default(10_000),
        /**
         * A TCP or TLS connection without any traffic for this long is closed (CRLF keep-alives
         * count, RFC 5626); a silent WebSocket peer is pinged, and closed if it does not answer in as long.
         */
        idleTimeoutSeconds: z.number().int().min(1).default(900),
      })
      .prefault({}),
  })
  .prefault({});

const adminSchema = z
  .strictObject({
    /** Bearer token for the admin API under /admin/. Unset: the admin API is off. */
    token: z.string().min(16, 'must be at least 16 characters').optional(),
  })
  .prefault({});

const metricsSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
  })
  .prefault({});

const xmppSchema = z
  .strictObject({
    /** The XMPP adapter (issue #5): XMPP clients (Conversations, Dino...) call and chat with web users. Off by default. */
    enabled: z.boolean().default(false),
    /** The XMPP server, `xmpp://host:port` (plain TCP / STARTTLS) or `xmpps://host:port` (direct TLS). */
    server: z.string().regex(/^xmpps?:\/\/[^\s/]+$/, 'expected xmpp://host:port or xmpps://host:port').default('xmpp://127.0.0.1:5222'),
    /**
     * Service account mode: the gateway logs in as this account and a web user is a resource of it
     * (`gateway@example.com/alice` stands for `web:alice`).
     */
    service: z
      .strictObject({
        jid: z.string().regex(/^[^\s@/]+@[^\s@/]+$/, 'expected a bare JID user@domain'),
        password: z.string().min(1),
        /** The resource the gateway's own session binds (calls to the bare JID and unmapped resources land there). */
        resource: z.string().min(1).default('switchboard'),
        /**
         * Bind a resource named after each web user while the user is online, with presence and
         * caps: XMPP clients see who is reachable, and clients without JMI can send a direct
         * session-initiate to it. One XMPP connection per online web user.
         */
        userResources: z.boolean().default(true),
      })
      .optional(),
    /**
     * Component mode (XEP-0114): the gateway is an XMPP component for a domain of its own, so web
     * user alice is `alice@<domain>` (a bare JID contacts add and call), and other local parts go
     * where `inbound.rules` say (`+15551234@<domain>`, XEP-0106 escapes for SIP addresses).
     */
    component: z
      .strictObject({
        domain: z.string().regex(/^[A-Za-z0-9.-]{1,253}$/, 'expected a domain name'),
        password: z.string().min(1),
        /** The server's component port (Prosody `component_ports`, 5347). */
        server: z.string().regex(/^xmpp:\/\/[^\s/]+$/, 'expected xmpp://host:port').default('xmpp://127.0.0.1:5347'),
        /**
         * Where the component keeps who subscribed to its users' presence, so contacts see users
         * online again after a restart (a component has no roster on the server). An absolute
         * path; written atomically. With the cluster directory on Redis, Redis keeps them instead.
         */
        subscribersFile: z
          .string()
          .min(2)
          .max(4096)
          .refine((path) => isAbsolute(path) && !path.endsWith('/') && !path.includes('\0'), 'expected an absolute file path')
          .optional(),
        /** Subscriptions kept at most (all users together); later subscribe requests are refused with `unsubscribed`. */
        maxSubscriptions: z.number().int().min(1).max(1_000_000).default(10_000),
      })
      .optional(),
    /**
     * Per-user login: a web user who gives `xmpp: { jid, password }` at login is logged in to
     * `xmpp.server` as that account while online, so its roster contacts can call and chat with it.
     */
    perUser: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
    /**
     * Where calls and messages to the service account go, by the resource they were sent to
     * (`gateway@example.com/+15551234`): the first rule whose `match` (a regular expression on the
     * resource) matches gives `target`, with `$1`... from the match (`tel:+$1`, `sip:$1@pbx`, `web:$1`).
     * Without a match a resource is the web user of that name. `defaultTarget` takes calls to the
     * bare JID and to the gateway's own resource; without it they are declined.
     */
    inbound: z
      .strictObject({
        rules: z.array(z.strictObject({ match: z.string().min(1), target: z.string().min(1) })).default([]),
        defaultTarget: z.string().min(1).optional(),
        /**
         * Who may call and message through the service account: bare JIDs (`carol@example.org`) or
         * whole domains (`*@example.org`). Empty: anyone may reach web users. Targets that are not
         * web users (phones and trunks through `rules`) are reached only by listed callers, so the
         * XMPP federation cannot place calls on a SIP trunk (toll fraud).
         */
        allowedCallers: z.array(z.string().regex(/^(\*|[^\s@/*]+)@[^\s@/*]+$/, 'expected user@domain or *@domain')).default([]),
      })
      .prefault({}),
    /**
     * What web users may reach over XMPP: calls and chat go out under the gateway's XMPP identity
     * (its service account or component domain), so guests reach XMPP addresses only with
     * `guests: true`; token users always may.
     */
    outbound: z.strictObject({ guests: z.boolean().default(false) }).prefault({}),
    /**
     * XEP-0215: ask the XMPP server for its STUN/TURN services and give them to the media
     * anchor's own ICE (an XMPP deployment's TURN server then relays the anchor's media too).
     */
    externalServices: z.boolean().default(false),
    /**
     * XEP-0198 resumption: when a client stream of the gateway drops and stream management was on,
     * its Jingle calls stay up (media does not go over XMPP) for at most this long, or the server's
     * advertised resume `max` when shorter, while @xmpp/client resumes the stream. A resumed stream
     * keeps them; a failed resumption (a new session) or the end of this time ends them as
     * `connection-lost`. 0: calls end as soon as the stream drops.
     */
    resumeGraceMs: z.number().int().min(0).max(600_000).default(60_000),
  })
  .prefault({})
  .refine((xmpp) => !xmpp.enabled || xmpp.service !== undefined || xmpp.component !== undefined || xmpp.perUser.enabled, {
    message: 'xmpp.service, xmpp.component or xmpp.perUser.enabled is required when xmpp.enabled is true',
    path: ['service'],
  })
  .refine((xmpp) => xmpp.inbound.rules.every((rule) => isRegExp(rule.match)), { message: 'xmpp.inbound.rules: match must be a valid regular expression', path: ['inbound', 'rules'] });

/** Who is online where (issue #12): this process alone, or shared by every node of a cluster on Redis. */
const directorySchema = z
  .strictObject({
    /** `memory`: one process, nothing else needed (the default). `redis`: many processes and machines as one. */
    kind: z.enum(['memory', 'redis']).default('memory'),
    redis: z
      .strictObject({
        /** `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). Keep Redis on an internal network: it is the nodes' bus. */
        url: z.string().regex(/^rediss?:\/\/\S+$/, 'expected redis://host:port or rediss://host:port').default('redis://127.0.0.1:6379'),
        /** Every key and channel starts with this, so several clusters can share one Redis. */
        keyPrefix: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'expected 1-64 of A-Z a-z 0-9 . _ : -').default('switchboard:'),
        /** A Redis command that gets no reply within this fails (a login then gets `unavailable`); the connection itself keeps reconnecting. */
        commandTimeoutMs: z.number().int().min(50).default(2000),
      })
      .prefault({}),
  })
  .prefault({});

/** This process as one node of a cluster (with `directory.kind: redis`). */
const clusterSchema = z
  .strictObject({
    /** Unique name of this node in the directory and on the bus. Unset: a random one per start. */
    nodeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected 1-64 of A-Z a-z 0-9 . _ - starting with a letter or digit').optional(),
    /** The node's internal address (host or host:port) other nodes and operators see in its heartbeat; unset: the SIP advertised host. */
    advertise: host.optional(),
    /** How often the node writes its heartbeat key. */
    heartbeatIntervalMs: z.number().int().min(100).default(1000),
    /** A node whose heartbeat is this old is lost: its users leave the directory and calls through it end with `node-lost`. */
    nodeTimeoutMs: z.number().int().min(300).default(5000),
    /** How long a node waits for another to answer a cross-node request (a call set-up, a chat message). */
    requestTimeoutMs: z.number().int().min(100).default(3000),
    /**
     * Gateway processes on this machine (`switchboard --workers N`): they share the HTTP port,
     * take SIP ports `sip.port` + 2i (TLS `sip.tls.port` + 2i) and an equal slice of the media port ranges each. >1 needs `directory.kind: redis`.
     */
    workers: z.number().int().min(1).max(64).default(1),
  })
  .refine((c) => c.heartbeatIntervalMs * 2 <= c.nodeTimeoutMs, { message: 'nodeTimeoutMs must be at least twice heartbeatIntervalMs', path: ['nodeTimeoutMs'] })
  .prefault({});

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

export const configSchema = z
  .strictObject({
    server: serverSchema,
    log: logSchema,
    auth: authSchema,
    signaling: signalingSchema,
    ice: iceSchema,
    stun: stunSchema,
    media: mediaSchema,
    sip: sipSchema,
    xmpp: xmppSchema,
    metrics: metricsSchema,
    admin: adminSchema,
    directory: directorySchema,
    cluster: clusterSchema,
  })
  .refine((c) => c.cluster.workers === 1 || c.directory.kind === 'redis', { message: 'cluster.workers above 1 needs directory.kind: redis', path: ['cluster', 'workers'] })
  .prefault({});

/** Configuration as written by the operator (every key optional). */
export type ConfigInput = z.input<typeof configSchema>;
/** Configuration after defaults and validation. */
export type GatewayConfig = z.output<typeof configSchema>;
