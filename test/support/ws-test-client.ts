import WebSocket from 'ws';
import type { ClientMessage, ServerMessage } from '../../src/protocol/messages.js';

type Frame = ServerMessage;

/**
 * A raw protocol client for tests: sends frames as they are (valid or not)
 * and waits for specific replies, keeping every frame it received.
 */
export class WsTestClient {
  readonly frames: Frame[] = [];
  closeCode: number | undefined;
  /** Frames since `welcome` but `welcome` and `resumed`, as a `resume` counts them. */
  framesSinceWelcome = 0;
  readonly #waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  readonly closed: Promise<number>;

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      if (frame.type === 'welcome') this.framesSinceWelcome = 0;
      else if (frame.type !== 'resumed') this.framesSinceWelcome += 1;
      this.frames.push(frame);
      const index = this.#waiters.findIndex((w) => w.match(frame));
      if (index >= 0) this.#waiters.splice(index, 1)[0]!.resolve(frame);
    });
    // A connection the test cuts fails with ECONNRESET: expected, not an error of the test.
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.on('close', (code) => {
        this.closeCode = code;
        resolve(code);
      }),
    );
  }

  static async connect(port: number): Promise<WsTestClient> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return new WsTestClient(socket);
  }

  static async login(port: number, name: string): Promise<WsTestClient> {
    const client = await WsTestClient.connect(port);
    client.send({ type: 'login', id: 'login', protocol: 1, name });
    await client.next('welcome');
    return client;
  }

  send(frame: ClientMessage | { type: string; [key: string]: unknown }): void {
    this.socket.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** The first frame (already received or future) of `type` matching `where`. */
  next<T extends Frame['type']>(
    type: T,
    where: (frame: Extract<Frame, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<Frame, { type: T }>> {
    const match = (f: Frame) => f.type === type && where(f as Extract<Frame, { type: T }>);
    const seen = this.frames.findIndex(match);
    if (seen >= 0) return Promise.resolve(this.frames.splice(seen, 1)[0] as Extract<Frame, { type: T }>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "${type}" frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          this.frames.splice(this.frames.indexOf(f), 1);
          resolve(f as Extract<Frame, { type: T }>);
        },
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
