import type { Logger } from '../../src/index.js';

type SipJsLevel = 'debug' | 'log' | 'warn' | 'error';

/**
 * sip.js logs through a connector when its own console output is off: its
 * lines go to the gateway's logger, with Authorization headers and SDP ICE
 * passwords blanked, as xmpp.js hides SASL payloads.
 */
export function makeSipJsLogConnector(logger: Logger): (level: SipJsLevel, category: string, label: string | undefined, content: string) => void {
  return (level, category, _label, content) => {
    const text = content
      .replace(/^((?:Proxy-)?Authorization:).*$/gim, '$1 [redacted]')
      .replace(/^(a=ice-pwd:).*$/gm, '$1[redacted]');
    switch (level) {
      case 'error':
        logger.error({ category }, text);
        break;
      case 'warn':
        logger.warn({ category }, text);
        break;
      default:
        logger.debug({ category }, text);
    }
  };
}
