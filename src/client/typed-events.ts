/**
 * A tiny typed event emitter for the browser SDK.
 *
 * `E` maps each event name to the tuple of its listener's arguments, e.g.
 * `{ ended: [reason: EndReason, detail?: string] }`. A listener that throws
 * never breaks the emitter (or the WebSocket handler that triggered it): the
 * exception is reported on the console and the other listeners still run.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (...args: any[]) => void;

export type EventMap<E> = { [K in keyof E]: unknown[] };

export class TypedEmitter<E extends EventMap<E>> {
  private readonly listeners = new Map<keyof E, Set<AnyListener>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as AnyListener);
    return () => this.off(event, listener);
  }

  /** Adds a listener that runs at most once; returns a function that removes it. */
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): () => void {
    const off = this.on(event, (...args: E[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  /** Removes a listener added with `on` (a `once` listener is removed with the function `once` returned). */
  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): void {
    const set = this.listeners.get(event);
    if (!set) return;
    set.delete(listener as AnyListener);
    if (set.size === 0) this.listeners.delete(event);
  }

  /** Removes every listener of `event`, or of all events. */
  removeAllListeners(event?: keyof E): void {
    if (event === undefined) this.listeners.clear();
    else this.listeners.delete(event);
  }

  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        console.error(`switchboard: a '${String(event)}' listener threw`, err);
      }
    }
  }
}
