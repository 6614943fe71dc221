import type { Leg } from '../calls/leg.js';
import type { RemoteParties } from '../calls/remote-parties.js';
import type { LegFactory, OutboundLegRequest } from '../calls/router.js';
import { CallFailedError } from '../errors/gateway-error.js';
import type { Directory } from '../directory/directory.js';
import type { BrowserSession } from './browser-session.js';
import { findLocalSession } from './local-session.js';

/**
 * Reaches `web:` users: finds their connection in the directory and creates a leg on it, or,
 * in a cluster, a leg through the node that holds them.
 */
export class WebLegFactory implements LegFactory {
  constructor(
    private readonly directory: Directory,
    private readonly sessions: Map<string, BrowserSession>,
    private readonly nodeId: string,
    private readonly remote?: RemoteParties,
  ) {}

  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    const { user } = request.target;
    const session = await findLocalSession(this.directory, this.sessions, this.nodeId, user);
    // Web users exist only while logged in: there is no user database to tell "unknown" from "offline".
    if (session === undefined) throw new CallFailedError('offline', `web:${user} is not online`);
    if ('elsewhere' in session) {
      const { nodeId, sessionId } = session.elsewhere;
      if (!this.remote) throw new CallFailedError('unreachable', `web:${user} is on another gateway node`);
      return this.remote.createLeg(nodeId, request, sessionId);
    }
    return session.createCalleeLeg(request.callId);
  }
}
