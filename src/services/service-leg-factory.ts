import type { Leg } from '../calls/leg.js';
import type { LegFactory, OutboundLegRequest } from '../calls/router.js';
import { CallFailedError } from '../errors/gateway-error.js';
import type { Logger } from '../logging/logger.js';
import type { PortAllocator } from '../media/port-allocator.js';
import { EchoLeg } from './echo-leg.js';

/** Built-in services reachable as `service:<name>`. */
export class ServiceLegFactory implements LegFactory {
  constructor(
    private readonly ports: PortAllocator,
    private readonly logger: Logger,
  ) {}

  async createLeg(request: OutboundLegRequest): Promise<Leg> {
    switch (request.target.user) {
      case 'echo':
        return new EchoLeg(request.callId, this.ports, this.logger);
      default:
        throw new CallFailedError('not-found', `no service "${request.target.user}" (try service:echo)`);
    }
  }
}
