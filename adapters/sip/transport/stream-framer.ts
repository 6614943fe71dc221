/**
 * Splits a stream transport's bytes (TCP, TLS) into SIP messages: RFC 3261
 * section 18.3 says the message ends after the empty line and Content-Length
 * bytes of body, and that Content-Length MUST be present on a stream. No I/O:
 * the connection pushes chunks and acts on what comes out.
 */

export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

export type FramedItem =
  | { readonly kind: 'message'; readonly message: string; readonly bytes: number }
  /** RFC 5626 section 3.5.1: a double-CRLF keep-alive ping; answer it with a single CRLF. */
  | { readonly kind: 'ping' };

export type FramingErrorCode = 'missing-content-length' | 'bad-content-length' | 'message-too-large';

export interface FramingError {
  readonly code: FramingErrorCode;
  readonly detail: string;
  /**
   * The header block of the message that could not be framed, when it arrived whole (its
   * Content-Length was missing or no number): enough to answer a request with 400 before the
   * connection closes (RFC 4475 sections 3.1.2.2 and 3.1.2.3).
   */
  readonly headerBlock?: string;
}

export interface FramerOutput {
  readonly items: FramedItem[];
  /** Set once the stream cannot be framed any more; the connection should be closed. */
  readonly error: FramingError | undefined;
}

const CR = 13;
const LF = 10;
const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /^(?:content-length|l)[ \t]*:[ \t]*([^\s]*)[ \t]*\r?$/im;

/**
 * The Content-Length of a header block (compact `l` too); undefined when
 * absent, NaN when present but not a number.
 */
export function readContentLength(headerBlock: string): number | undefined {
  const match = CONTENT_LENGTH.exec(headerBlock);
  if (!match) return undefined;
  return /^\d{1,9}$/.test(match[1] ?? '') ? Number(match[1]) : NaN;
}

/**
 * The bytes waiting to be framed, in storage that grows by doubling and is
 * consumed from the front: a peer sending a message one byte per segment
 * must not make each segment copy everything received so far.
 */
class ByteQueue {
  #storage = Buffer.alloc(0);
  #start = 0;
  #end = 0;

  get length(): number {
    return this.#end - this.#start;
  }

  /** What is queued, without copying (valid until the next append or consume). */
  view(): Buffer {
    return this.#storage.subarray(this.#start, this.#end);
  }

  append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#storage.length) {
      const size = this.length;
      const next = Buffer.allocUnsafe(Math.max(size + chunk.length, size * 2, 4096));
      this.#storage.copy(next, 0, this.#start, this.#end);
      this.#storage = next;
      this.#start = 0;
      this.#end = size;
    }
    this.#storage.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  consume(bytes: number): void {
    this.#start = Math.min(this.#end, this.#start + bytes);
    if (this.#start === this.#end) this.#start = this.#end = 0;
  }

  clear(): void {
    this.#storage = Buffer.alloc(0);
    this.#start = this.#end = 0;
  }
}

export class SipStreamFramer {
  readonly #maxMessageBytes: number;
  readonly #queue = new ByteQueue();
  /** Where the search for the end of headers resumes: bytes before it were searched already. */
  #searchFrom = 0;
  #failed: FramingError | undefined;

  constructor(options: { maxMessageBytes?: number } = {}) {
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  }

  /** Bytes held back waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /**
   * Part of a message (not just keep-alive line endings) is waiting for the
   * rest: the connection bounds how long that may take.
   */
  get messagePending(): boolean {
    const first = this.#queue.view()[0];
    return first !== undefined && first !== CR && first !== LF;
  }

  push(chunk: Uint8Array): FramerOutput {
    const items: FramedItem[] = [];
    if (this.#failed) return { items, error: this.#failed };
    this.#queue.append(chunk);
    for (;;) {
      const keepAlive = this.#takeKeepAlive();
      if (keepAlive === 'ping') {
        items.push({ kind: 'ping' });
        continue;
      }
      if (keepAlive === 'wait') break;
      const framed = this.#takeMessage();
      if (framed === undefined) break;
      if ('code' in framed) {
        this.#failed = framed;
        this.#queue.clear();
        return { items, error: framed };
      }
      items.push(framed);
    }
    return { items, error: undefined };
  }

  /**
   * Consumes CRLFs before a message. A double CRLF is a ping; a single CRLF
   * is a pong or stray line ending (RFC 3261 section 7.5 says to ignore it).
   * A lone CRLF at the end of the buffer may be half of a ping, so wait.
   * A loop, not recursion: the peer decides how many line endings come in a
   * row, and one call frame per byte would overflow the stack.
   */
  #takeKeepAlive(): 'ping' | 'wait' | 'none' {
    for (;;) {
      const buffer = this.#queue.view();
      if (buffer.length === 0) return 'wait';
      if (buffer[0] !== CR && buffer[0] !== LF) return 'none';
      if (buffer.length >= 4 && buffer.subarray(0, 4).equals(HEADER_END)) {
        this.#consume(4);
        return 'ping';
      }
      if (buffer[0] === CR && buffer.length < 2) return 'wait';
      const lineEnd = buffer[0] === CR && buffer[1] === LF ? 2 : 1;
      if (buffer.length === lineEnd || (buffer.length < 4 && buffer[lineEnd] === CR)) return 'wait';
      this.#consume(lineEnd);
    }
  }

  #consume(bytes: number): void {
    this.#queue.consume(bytes);
    this.#searchFrom = 0;
  }

  #takeMessage(): FramedItem | FramingError | undefined {
    const buffer = this.#queue.view();
    // Resume where the last search stopped (less the 3 bytes a split CRLFCRLF may have begun in).
    const headerEnd = buffer.indexOf(HEADER_END, Math.max(0, this.#searchFrom - 3));
    if (headerEnd === -1) {
      this.#searchFrom = buffer.length;
      if (buffer.length > this.#maxMessageBytes) {
        return { code: 'message-too-large', detail: `no end of headers within ${this.#maxMessageBytes} bytes` };
      }
      return undefined;
    }
    // Header bytes are ASCII (RFC 3261 section 25.1, UTF-8 only inside values), so latin1 keeps offsets.
    const contentLength = readContentLength(buffer.toString('latin1', 0, headerEnd));
    const headerBlock = (): string => buffer.toString('utf8', 0, headerEnd + HEADER_END.length);
    if (contentLength === undefined) {
      return { code: 'missing-content-length', detail: 'Content-Length is mandatory on a stream (RFC 3261 section 18.3)', headerBlock: headerBlock() };
    }
    if (Number.isNaN(contentLength)) return { code: 'bad-content-length', detail: 'Content-Length is not a number of octets', headerBlock: headerBlock() };
    const total = headerEnd + HEADER_END.length + contentLength;
    if (total > this.#maxMessageBytes) {
      return { code: 'message-too-large', detail: `${total} bytes exceed the ${this.#maxMessageBytes} byte limit` };
    }
    if (buffer.length < total) return undefined;
    const message = buffer.toString('utf8', 0, total);
    this.#consume(total);
    return { kind: 'message', message, bytes: total };
  }
}
