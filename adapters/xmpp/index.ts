/** The XMPP adapter's public face for the composition root. */
export { XmppAdapter, type XmppAdapterOptions, type XmppClusterOptions, type XmppConfig } from './xmpp-adapter.js';
