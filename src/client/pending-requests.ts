/**
 * Requests waiting for their reply, by request id: each settles once, with the
 * gateway's `ack`/`welcome`/`pong`, its `error` frame, a timeout, or the close
 * of the connection.
 */

import type { ServerMessage } from '../protocol/messages.js';
import { SwitchboardError } from './switchboard-error.js';

interface PendingRequest {
  resolve: (msg: ServerMessage) => void;
  reject: (error: SwitchboardError) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class PendingRequests {
  private readonly pending = new Map<string, PendingRequest>();

  constructor(private readonly timeoutMs: number) {}

  /** Waits for the reply to request `id` (of frame type `type`); `send` sends it, and may throw. */
  wait(id: string, type: string, send: () => void): Promise<ServerMessage> {
    return new Promise<ServerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SwitchboardError('timeout', `no reply to ${type} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        send();
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new SwitchboardError('not-connected', `could not send ${type}`, { cause: err }));
      }
    });
  }

  /** Resolves request `id` with `reply`; false when no request waits for that id. */
  resolve(id: unknown, reply: ServerMessage): boolean {
    return this.settle(id, (pending) => pending.resolve(reply));
  }

  /** Rejects request `id` with `error`; false when no request waits for that id. */
  reject(id: unknown, error: SwitchboardError): boolean {
    return this.settle(id, (pending) => pending.reject(error));
  }

  /** Rejects every waiting request with a new error from `error` (the connection closed). */
  rejectAll(error: () => SwitchboardError): void {
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      this.pending.delete(id);
      pending.reject(error());
    }
  }

  private settle(id: unknown, settle: (pending: PendingRequest) => void): boolean {
    if (typeof id !== 'string') return false;
    const pending = this.pending.get(id);
    if (!pending) return false;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    settle(pending);
    return true;
  }
}
