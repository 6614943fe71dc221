import type { Element } from '@xmpp/xml';
import type { TypedEmitter } from '../../src/index.js';
import type { XmppStanzaPort } from './jingle-leg.js';

/** What @xmpp/iq's callee hands a handler: the IQ and its one child. */
export interface IqContext {
  stanza: Element;
  element: Element;
}

export type IqSetHandler = (ctx: IqContext) => Element | true | Promise<Element | true>;

export type XmppIdentityEvents = {
  online: [jid: string];
  /**
   * The stream is gone (server restart, network). Reconnecting follows. `resumable`: XEP-0198
   * resumption was on, so the reconnect may resume this very session (`resumed`) and calls may go
   * on; otherwise (or when `online` comes instead, a new session) calls on it cannot go on.
   */
  offline: [resumable?: boolean];
  /** XEP-0198: the dropped stream was resumed; the peers' stanzas held by the server follow, ours were resent. */
  resumed: [];
  message: [stanza: Element];
  presence: [stanza: Element];
  listenererror: [event: string, error: unknown];
};

/**
 * One XMPP address the gateway answers as, whatever carries it: its own client-to-server session
 * (XmppConnection) or one JID of a component (XEP-0114, ComponentIdentity). Calls and chat
 * (XmppAccount) run on it.
 */
export interface XmppIdentity extends TypedEmitter<XmppIdentityEvents> {
  /** Our full JID. */
  readonly jid: string;
  readonly bareJid: string;
  readonly online: boolean;
  /** Sends and requests as this JID. */
  readonly port: XmppStanzaPort;
  onIqSet(ns: string, name: string, handler: IqSetHandler): void;
  /** Resolves true once online (at once when it is), false after `timeoutMs`. */
  whenOnline(timeoutMs: number): Promise<boolean>;
  /** The longest time the server keeps a dropped stream for resumption (XEP-0198 `max`), when it said. */
  readonly resumeMaxMs?: number | undefined;
}
