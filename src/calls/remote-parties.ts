import type { ChatMessage } from '../messaging/chat-router.js';
import type { Leg } from './leg.js';
import type { OutboundLegRequest } from './router.js';

/**
 * Parties held by other nodes of a cluster (src/cluster implements it over the bus). A call to
 * such a party stays on this node, the owner, and its leg forwards commands and events to the
 * node that holds the party.
 */
export interface RemoteParties {
  /**
   * The leg for `request.target` held by node `nodeId` (a web user: their session `sessionId`
   * there). Rejects with CallFailedError as a LegFactory does (`offline`, `busy`, `unreachable`...).
   */
  createLeg(nodeId: string, request: OutboundLegRequest, sessionId?: string): Promise<Leg>;
  /** Hands a chat message to node `nodeId`; rejects with GatewayError as a ChatDelivery does. */
  deliverChat(nodeId: string, message: ChatMessage, sessionId?: string): Promise<void>;
}
