import { createSocket } from 'node:dgram';
import { connect, type AddressInfo } from 'node:net';

/**
 * A SIP client made of a bare socket on loopback: it sends exactly the bytes
 * it is given (torture messages included) and collects what comes back.
 * One socket per exchange, so every exchange has its own sent-by.
 */

export interface RawExchangeOptions {
  /** Builds the bytes to send once the local port (for the Via sent-by) is known. */
  message: (localPort: number) => Buffer;
  /** Stop waiting once this holds (checked on every response); otherwise wait `waitMs`. */
  done?: (responses: readonly string[]) => boolean;
  /** How long to wait for responses (a bound, or the whole wait when nothing is expected). */
  waitMs: number;
  /** Called for every response, e.g. to ACK a final response to an INVITE; its return value is sent. */
  reply?: (response: string) => Buffer | undefined;
  /** Further waiting after `done` held, to catch what should not come. */
  graceMs?: number;
}

export interface RawExchange {
  readonly responses: string[];
  /** The gateway closed the stream (TCP only). */
  readonly closed: boolean;
}

export async function exchangeUdp(port: number, options: RawExchangeOptions): Promise<RawExchange> {
  const socket = createSocket('udp4');
  await new Promise<void>((bound) => socket.bind(0, '127.0.0.1', bound));
  const responses: string[] = [];
  try {
    const settled = collect(responses, options, (bytes) => socket.send(bytes, port, '127.0.0.1'));
    socket.on('message', (data) => settled.push(data.toString('utf8')));
    socket.send(options.message((socket.address() as AddressInfo).port), port, '127.0.0.1');
    await settled.finished;
  } finally {
    socket.close();
  }
  return { responses, closed: false };
}

export async function exchangeTcp(port: number, options: RawExchangeOptions): Promise<RawExchange> {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise((connected, failed) => socket.once('connect', connected).once('error', failed));
  const responses: string[] = [];
  let closed = false;
  let buffered = '';
  socket.on('error', () => {});
  try {
    const settled = collect(responses, options, (bytes) => socket.write(bytes));
    socket.on('close', () => {
      closed = true;
      settled.stop();
    });
    socket.on('data', (data) => {
      buffered += data.toString('utf8');
      for (let message = takeMessage(); message !== undefined; message = takeMessage()) settled.push(message);
    });
    const takeMessage = (): string | undefined => {
      const headerEnd = buffered.indexOf('\r\n\r\n');
      if (headerEnd === -1) return undefined;
      const length = Number(/^(?:content-length|l)\s*:\s*(\d+)/im.exec(buffered.slice(0, headerEnd))?.[1] ?? 0);
      if (buffered.length < headerEnd + 4 + length) return undefined;
      const message = buffered.slice(0, headerEnd + 4 + length);
      buffered = buffered.slice(message.length);
      return message;
    };
    socket.write(options.message(socket.localPort!));
    await settled.finished;
  } finally {
    socket.destroy();
  }
  return { responses, closed };
}

function collect(responses: string[], options: RawExchangeOptions, send: (bytes: Buffer) => void) {
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const bound = setTimeout(() => finish(), options.waitMs);
  let grace: NodeJS.Timeout | undefined;
  const stop = (): void => {
    clearTimeout(bound);
    if (grace) clearTimeout(grace);
    finish();
  };
  return {
    finished,
    stop,
    push(response: string): void {
      responses.push(response);
      const answer = options.reply?.(response);
      if (answer) send(answer);
      if (!grace && options.done?.(responses)) {
        clearTimeout(bound);
        grace = setTimeout(() => finish(), options.graceMs ?? 0);
      }
    },
  };
}

/** The status code of a response. */
export function statusOf(response: string): number {
  return Number(/^SIP\/2\.0 (\d{3})/.exec(response)?.[1] ?? NaN);
}

/** The value of the first header field `name` (case-insensitive, no compact forms). */
export function headerOf(response: string, name: string): string | undefined {
  const head = response.slice(0, response.indexOf('\r\n\r\n'));
  const line = head.split('\r\n').find((candidate) => candidate.toLowerCase().startsWith(`${name.toLowerCase()}:`));
  return line?.slice(line.indexOf(':') + 1).trim();
}

/**
 * The ACK for a non-2xx final response to an INVITE (RFC 3261 section
 * 17.1.1.3): the response's top Via (same branch and sent-by as the
 * INVITE), From, To with its tag, Call-ID and the CSeq number.
 */
export function ackFor(response: string, requestUri: string): Buffer {
  const via = headerOf(response, 'via')!.split(',')[0]!;
  const cseq = headerOf(response, 'cseq')!.split(/\s+/)[0];
  return Buffer.from(
    [
      `ACK ${requestUri} SIP/2.0`,
      `Via: ${via}`,
      'Max-Forwards: 70',
      `From: ${headerOf(response, 'from')}`,
      `To: ${headerOf(response, 'to')}`,
      `Call-ID: ${headerOf(response, 'call-id')}`,
      `CSeq: ${cseq} ACK`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );
}
