import type { RemoteParties } from '../calls/remote-parties.js';
import type { Directory } from '../directory/directory.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { ChatDelivery, ChatMessage } from '../messaging/chat-router.js';
import type { BrowserSession } from './browser-session.js';
import { findLocalSession } from './local-session.js';

/** Chat messages to `web:` users: written to their connection as a `message` frame (through their node in a cluster). */
export class WebChatDelivery implements ChatDelivery {
  constructor(
    private readonly directory: Directory,
    private readonly sessions: Map<string, BrowserSession>,
    private readonly nodeId: string,
    private readonly remote?: RemoteParties,
  ) {}

  async deliver(message: ChatMessage): Promise<void> {
    const { user } = message.to;
    const session = await findLocalSession(this.directory, this.sessions, this.nodeId, user);
    // No store-and-forward: web users exist only while online, like their calls.
    if (session === undefined) throw new GatewayError('offline', `web:${user} is not online`);
    if ('elsewhere' in session) {
      const { nodeId, sessionId } = session.elsewhere;
      if (!this.remote) throw new GatewayError('undeliverable', `web:${user} is on another gateway node`);
      return this.remote.deliverChat(nodeId, message, sessionId);
    }
    session.send({ type: 'message', from: message.from.uri, body: message.body, messageId: message.id });
  }
}
