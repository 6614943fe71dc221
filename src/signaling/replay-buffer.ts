/**
 * The frames a session sent lately, numbered from 1 after `welcome`, so that a browser that comes
 * back with `resume` gets again what its dropped connection swallowed: frames written to a socket
 * that is already dead (a half-open TCP connection lives until the next ping) as well as those
 * made while it was away. Bounded in frames and bytes: a session whose client missed more than the
 * buffer holds cannot be resumed.
 */
export class ReplayBuffer {
  readonly #frames: { seq: number; text: string }[] = [];
  #bytes = 0;
  #sent = 0;

  constructor(
    private readonly maxFrames: number,
    private readonly maxBytes: number,
  ) {}

  /** Numbers of the frames pushed so far. */
  get sent(): number {
    return this.#sent;
  }

  /** Whether the frames kept fill the buffer (the oldest go as new ones come). */
  get full(): boolean {
    return this.#frames.length >= this.maxFrames || this.#bytes >= this.maxBytes;
  }

  push(text: string): void {
    this.#sent += 1;
    this.#frames.push({ seq: this.#sent, text });
    this.#bytes += text.length;
    while (this.#frames.length > this.maxFrames || (this.#bytes > this.maxBytes && this.#frames.length > 1)) {
      this.#bytes -= this.#frames.shift()!.text.length;
    }
  }

  /**
   * The frames after the first `received`, or undefined when some of them are no longer kept (or
   * `received` is more than was ever sent: not this session's client).
   */
  after(received: number): string[] | undefined {
    if (received > this.#sent) return undefined;
    const missed = this.#sent - received;
    if (missed > this.#frames.length) return undefined;
    return this.#frames.slice(this.#frames.length - missed).map((frame) => frame.text);
  }
}
