import type { Leg } from '../calls/leg.js';
import type { LegFactory, OutboundLegRequest } from '../calls/router.js';
import { CallFailedError } from '../errors/gateway-error.js';
import type { Directory } from '../directory/directory.js';
import type { BrowserSession } from './browser-session.js';

/** Reaches `web:` users: finds their connection in the directory and creates a leg on it. */
export class WebLegFactory implements LegFactory {
  constructor(
    private readonly directory: Directory,
    private readonly sessions: Map<string, BrowserSession>,
    private readonly nodeId: string,
  ) {}

  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    const { user } = request.target;
    const entry = await this.directory.lookup(user);
    // Web users exist only while logged in: there is no user database to tell "unknown" from "offline".
    if (!entry) throw new CallFailedError('offline', `web:${user} is not online`);
    if (entry.nodeId !== this.nodeId) {
      throw new CallFailedError('unreachable', `web:${user} is on gateway node ${entry.nodeId}`);
    }
    const session = this.sessions.get(entry.sessionId);
    if (!session) throw new CallFailedError('offline', `web:${user} is not online`);
    return session.createCalleeLeg(request.callId);
  }
}
