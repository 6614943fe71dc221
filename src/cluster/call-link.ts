import type { BusMessage, LegCommand, LegEventName } from './bus-messages.js';

/** Sends one bus message to the other node of a call; resolves with whether anyone listened. */
export type SendToPeer = (message: BusMessage) => Promise<boolean>;

/**
 * The two ends of one call's signaling between two nodes: numbers what this node sends and checks
 * the numbers of what it receives. A gap means the bus lost a message (a connection to Redis
 * dropped in between): the call cannot be trusted to be in step any more and is ended.
 */
export class CallLink {
  #sent = 0;
  #received = 0;
  #closed = false;

  constructor(
    readonly peer: string,
    readonly callId: string,
    private readonly sendToPeer: SendToPeer,
    /** Called once when the link breaks (a gap, or the peer unreachable). */
    private readonly broken: (detail: string) => void,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  command(op: LegCommand, args: unknown[], req?: string): void {
    this.#send({ kind: 'cmd', callId: this.callId, seq: ++this.#sent, op, args, ...(req ? { req } : {}) });
  }

  event(event: LegEventName, args: unknown[]): void {
    this.#send({ kind: 'event', callId: this.callId, seq: ++this.#sent, event, args });
  }

  /** Whether `seq` is the next message; a gap breaks the link (and returns false). */
  accept(seq: number): boolean {
    if (this.#closed) return false;
    if (seq === this.#received + 1) {
      this.#received = seq;
      return true;
    }
    this.#break(`signaling between nodes lost messages (expected ${this.#received + 1}, got ${seq} from ${this.peer})`);
    return false;
  }

  close(): void {
    this.#closed = true;
  }

  #send(message: BusMessage): void {
    if (this.#closed) return;
    this.sendToPeer(message).then(
      (heard) => {
        if (!heard) this.#break(`node ${this.peer} is not listening`);
      },
      (error: unknown) => this.#break(`the bus to node ${this.peer} failed: ${(error as Error).message}`),
    );
  }

  #break(detail: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.broken(detail);
  }
}
