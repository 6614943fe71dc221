import { UserAgent, type Message } from 'sip.js';
import { transportConstructorFor, type SipJsTransport, type SipTransportHub } from '../../../adapters/sip/transport/index.js';

/** A sip.js UserAgent on a hub transport that accepts every MESSAGE and keeps the bodies. */
export interface MessageAgent {
  transport: SipJsTransport;
  userAgent: UserAgent;
  messages: string[];
}

/**
 * Starts a user agent for `user` on its own transport of `hub`. `viaHost` is
 * deliberately not the hub's advertised host: the hub writes the real Via and
 * gives sip.js its own back.
 */
export async function startMessageAgent(hub: SipTransportHub, user: string, viaHost = `${user}.invalid`): Promise<MessageAgent> {
  const transport = hub.createTransport(user);
  const messages: string[] = [];
  const userAgent = new UserAgent({
    uri: UserAgent.makeURI(`sip:${user}@127.0.0.1`),
    viaHost,
    contactName: user,
    contactParams: { transport: 'udp' },
    transportConstructor: transportConstructorFor(transport),
    logBuiltinEnabled: false,
    delegate: {
      onMessage: (message: Message) => {
        messages.push(message.request.body);
        void message.accept();
      },
    },
  });
  await userAgent.start();
  return { transport, userAgent, messages };
}
