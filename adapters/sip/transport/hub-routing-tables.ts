import { ExpiringMap } from './expiring-map.js';
import type { SipConnection } from './sip-connection.js';
import type { SipJsTransport } from './sip-js-transport.js';
import type { ViaSentBy } from './sip-via-rewrite.js';
import type { SipProtocol } from './sip-uri-target.js';

/** Where a message came from; `connection` is set for TCP, TLS and WebSocket. */
export interface SipSource {
  readonly protocol: SipProtocol;
  readonly address: string;
  readonly port: number;
}

export interface InboundFlow extends SipSource {
  readonly connection: SipConnection | undefined;
}

/** A request a UserAgent sent: its responses go back to it, with the Via sip.js wrote. */
export interface ClientTransactionRoute {
  readonly transport: SipJsTransport;
  readonly sentBy: ViaSentBy;
  /** The branch sip.js wrote, when the hub sent the request under another (a retry at the next server, RFC 3263 section 4.3). */
  readonly sipJsBranch?: string;
}

/** A request that arrived: the UserAgent it went to and the flow its responses take. */
export interface ServerTransactionRoute {
  readonly transport: SipJsTransport;
  readonly flow: InboundFlow;
}

/**
 * Long enough for an INVITE that rings for minutes (RFC 3261 section 16.6
 * Timer C is 3 minutes); each message of the transaction refreshes it.
 */
const TRANSACTION_ROUTE_MS = 5 * 60_000;
/** A dialog without any message for this long is forgotten (session timers, RFC 4028, refresh far more often). */
const DIALOG_IDLE_MS = 12 * 60 * 60_000;

/**
 * The hub's demultiplexing state: which UserAgent a message belongs to.
 * Dialogs are keyed by Call-ID and the UserAgent's own tag (From tag of what
 * it sends, To tag of what it answers), so two UserAgents of this process
 * in the same call, as when a call loops back through a proxy, stay apart.
 */
export class HubRoutingTables {
  readonly clientTransactions = new ExpiringMap<string, ClientTransactionRoute>({ maxEntries: 50_000 });
  /** By serverTransactionKey() (RFC 3261 section 17.2.3 minus the method, so CANCEL and ACK follow their INVITE). */
  readonly serverTransactions = new ExpiringMap<string, ServerTransactionRoute>({ maxEntries: 50_000 });
  readonly #dialogs = new ExpiringMap<string, SipJsTransport>({ maxEntries: 100_000 });

  recordClientTransaction(branch: string, route: ClientTransactionRoute): void {
    this.clientTransactions.set(branch, route, TRANSACTION_ROUTE_MS);
  }

  clientTransaction(branch: string): ClientTransactionRoute | undefined {
    const route = this.clientTransactions.get(branch);
    if (route) this.clientTransactions.touch(branch, TRANSACTION_ROUTE_MS);
    return route;
  }

  recordServerTransaction(key: string, route: ServerTransactionRoute): void {
    this.serverTransactions.set(key, route, TRANSACTION_ROUTE_MS);
  }

  serverTransaction(key: string): ServerTransactionRoute | undefined {
    const route = this.serverTransactions.get(key);
    if (route) this.serverTransactions.touch(key, TRANSACTION_ROUTE_MS);
    return route;
  }

  /** `localTag` is the UserAgent's tag: From tag on its requests, To tag on its responses. */
  recordDialog(callId: string | undefined, localTag: string | undefined, transport: SipJsTransport): void {
    if (callId && localTag) this.#dialogs.set(`${callId}|${localTag}`, transport, DIALOG_IDLE_MS);
  }

  /** The UserAgent of an in-dialog request: its To tag is the UserAgent's tag. */
  dialogOwner(callId: string | undefined, toTag: string | undefined): SipJsTransport | undefined {
    if (!callId || !toTag) return undefined;
    const key = `${callId}|${toTag}`;
    const transport = this.#dialogs.get(key);
    if (transport) this.#dialogs.touch(key, DIALOG_IDLE_MS);
    return transport;
  }

  forgetTransport(transport: SipJsTransport): void {
    this.clientTransactions.deleteWhere((route) => route.transport === transport);
    this.serverTransactions.deleteWhere((route) => route.transport === transport);
    this.#dialogs.deleteWhere((owner) => owner === transport);
  }

  sweep(): void {
    this.clientTransactions.sweep();
    this.serverTransactions.sweep();
    this.#dialogs.sweep();
  }

  clear(): void {
    this.clientTransactions.clear();
    this.serverTransactions.clear();
    this.#dialogs.clear();
  }
}
