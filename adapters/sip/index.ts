/** The SIP adapter's public face for the composition root. */
export { SipAdapter, type SipAdapterOptions, type SipConfig } from './sip-adapter.js';
