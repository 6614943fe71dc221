import type { TypedEmitter } from '../events/typed-emitter.js';

export type LeaseEvents = {
  /** This node holds the lease now: start what only one node may run. */
  acquired: [];
  /** This node no longer holds it (another took it, or it could not be renewed in time): stop. */
  lost: [];
  listenererror: [event: string, error: unknown];
};

/**
 * Something only one node of a cluster may do at a time (an XMPP component connection: the
 * server accepts one per domain). The node that holds the lease does it; when that node dies, the
 * lease expires and another node takes it over.
 */
export interface Lease extends TypedEmitter<LeaseEvents> {
  readonly name: string;
  readonly held: boolean;
  /** The node holding it right now, if any. */
  holder(): Promise<string | undefined>;
  /** Starts trying to take it (and keeping it). */
  start(): void;
  /** Gives it up (if held) and stops trying. */
  stop(): Promise<void>;
}
