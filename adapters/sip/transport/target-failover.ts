import { ExpiringMap } from './expiring-map.js';
import { scanHeaders } from './sip-header-fields.js';
import type { SipJsTransport } from './sip-js-transport.js';
import type { PeekedRequest, PeekedResponse } from './sip-message-peek.js';
import type { LocatedTarget } from './sip-server-locator.js';
import type { ViaSentBy } from './sip-via-rewrite.js';

/** One request of sip.js on its way through the targets of its next hop. */
export interface Attempt {
  readonly transport: SipJsTransport;
  /** The request as sip.js wrote it. */
  readonly message: string;
  readonly request: PeekedRequest;
  readonly sentBy: ViaSentBy;
  readonly targets: readonly LocatedTarget[];
  /** Index of the target the request went to last, and the branch it went with. */
  index?: number;
  wireBranch: string;
  /** The request exactly as it went to that target. */
  wire: string | undefined;
  readonly startedAt: number;
  timer?: ReturnType<typeof setTimeout> | undefined;
}

export interface TargetFailoverOptions {
  /** 64*T1: no failover once sip.js's own transaction has given up. */
  readonly transactionMs: number;
  /** No response at all for this long: the next target (0: never for silence alone). */
  readonly failoverAfterMs: number;
  /** The target at `attempt.index` stayed silent: send to `next`. */
  readonly onSilent: (attempt: Attempt, next: number) => void;
}

/** What to do with a response: hand it to sip.js, drop it, or send the request to the next target. */
export type FailoverVerdict = { readonly kind: 'deliver' } | { readonly kind: 'absorb' } | { readonly kind: 'next'; readonly attempt: Attempt; readonly next: number };

const DELIVER: FailoverVerdict = { kind: 'deliver' };
const ABSORB: FailoverVerdict = { kind: 'absorb' };

/**
 * RFC 3263 section 4.3 decisions for requests whose next hop has several
 * targets: which target is current, when silence or a 503 moves the request
 * on. The sending itself is the outbound path's.
 */
export class TargetFailover {
  readonly #options: TargetFailoverOptions;
  /** sip.js branch -> a request with several targets, until its final response. */
  readonly #attempts = new ExpiringMap<string, Attempt>({ maxEntries: 50_000, onRemove: (_branch, attempt) => clearTimeout(attempt.timer) });

  constructor(options: TargetFailoverOptions) {
    this.#options = options;
  }

  /**
   * The request went to targets[index]: wait for that target's final response
   * (late answers of targets given up on are dropped meanwhile); none at all
   * within `failoverAfterMs` moves on to the next target, when there is one.
   */
  watch(attempt: Attempt, index: number): void {
    const branch = attempt.request.topVia!.branch!;
    this.#attempts.delete(branch);
    attempt.index = index;
    this.#attempts.set(branch, attempt, this.#options.transactionMs);
    if (index + 1 >= attempt.targets.length || this.#options.failoverAfterMs <= 0) return;
    attempt.timer = setTimeout(() => {
      attempt.timer = undefined;
      if (this.#attempts.get(branch) !== attempt || this.#expired(attempt)) return;
      this.#options.onSilent(attempt, index + 1);
    }, this.#options.failoverAfterMs);
    attempt.timer.unref?.();
  }

  /** The request needs no other target any more (its CANCEL went out: the caller gave up, RFC 3261 section 9.1). */
  stop(sipJsBranch: string): void {
    this.#attempts.delete(sipJsBranch);
  }

  /**
   * A response that came with `wireBranch` for the request sip.js sent with
   * `sipJsBranch`: any response ends the wait for its target; a final 503
   * without Retry-After from a target with others after it sends the request on.
   */
  onResponse(response: PeekedResponse, message: string, sipJsBranch: string): FailoverVerdict {
    const attempt = this.#attempts.get(sipJsBranch);
    if (!attempt || response.cseq?.method !== attempt.request.method) return DELIVER;
    // A late answer from a target already given up on: the request lives on elsewhere.
    if (response.topVia?.branch !== attempt.wireBranch) return ABSORB;
    clearTimeout(attempt.timer);
    attempt.timer = undefined;
    if (response.status < 200) return DELIVER;
    this.#attempts.delete(sipJsBranch);
    const next = (attempt.index ?? 0) + 1;
    if (response.status !== 503 || next >= attempt.targets.length || this.#expired(attempt)) return DELIVER;
    // A 503 with Retry-After is the server's own word on when to come back: it goes to sip.js.
    if (scanHeaders(message)?.fields.some((field) => field.name === 'retry-after')) return DELIVER;
    return { kind: 'next', attempt, next };
  }

  sweep(): void {
    this.#attempts.sweep();
  }

  clear(): void {
    this.#attempts.clear();
  }

  #expired(attempt: Attempt): boolean {
    return Date.now() - attempt.startedAt >= this.#options.transactionMs;
  }
}
