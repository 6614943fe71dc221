import { EventEmitter } from 'node:events';

/** Event map: event name -> listener argument tuple. */
export type EventMap = Record<string, unknown[]>;

/**
 * A Node EventEmitter with typed event names and arguments. `safeEmit` keeps a
 * throwing listener from breaking the emitter's own state machine (the
 * mediasoup pattern): the error is re-emitted as `listenererror` and the
 * remaining listeners still run.
 */
export class TypedEmitter<E extends EventMap> {
  readonly #emitter = new EventEmitter();

  constructor() {
    this.#emitter.setMaxListeners(50);
  }

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.#emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  removeAllListeners(): void {
    this.#emitter.removeAllListeners();
  }

  protected safeEmit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    for (const listener of this.#emitter.listeners(event)) {
      try {
        (listener as (...a: unknown[]) => void)(...args);
      } catch (error) {
        if (event === 'listenererror') throw error;
        this.#emitter.emit('listenererror', event, error);
      }
    }
  }
}
