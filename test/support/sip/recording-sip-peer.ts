import { createSocket, type Socket } from 'node:dgram';

/** A request the recording peer received. */
export interface RecordedRequest {
  readonly method: string;
  readonly requestUri: string;
  readonly text: string;
  readonly from: { address: string; port: number };
}

/**
 * A SIP peer on UDP that writes down every request it gets and refuses every
 * INVITE with `inviteStatus` (a trunk or registrar that must, or must not, be
 * reached). Deliberately dumb: it shows what left the gateway, nothing more.
 */
export class RecordingSipPeer {
  readonly requests: RecordedRequest[] = [];

  private constructor(
    private readonly socket: Socket,
    readonly port: number,
    private readonly inviteStatus: string,
  ) {
    socket.on('message', (data, remote) => this.#onMessage(data.toString('utf8'), { address: remote.address, port: remote.port }));
  }

  static async start(options: { inviteStatus?: string } = {}): Promise<RecordingSipPeer> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => resolve());
    });
    return new RecordingSipPeer(socket, socket.address().port, options.inviteStatus ?? '486 Busy Here');
  }

  /** Requests of one method, in arrival order. */
  received(method: string): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method);
  }

  close(): void {
    this.socket.close();
  }

  #onMessage(text: string, from: { address: string; port: number }): void {
    const line = /^([A-Z]+) (\S+) SIP\/2\.0\r\n/.exec(text);
    if (!line) return;
    this.requests.push({ method: line[1]!, requestUri: line[2]!, text, from });
    if (line[1] === 'ACK') return;
    const status = line[1] === 'INVITE' ? this.inviteStatus : '200 OK';
    this.#reply(text, status, from);
  }

  #reply(request: string, status: string, to: { address: string; port: number }): void {
    const copied = request
      .split('\r\n')
      // A registrar's 2xx lists the bindings (RFC 3261 section 10.3 step 8): echo the Contact and Expires.
      .filter((header) => /^(via|from|to|call-id|cseq|contact|expires)\s*:/i.test(header))
      .map((header) => (/^to\s*:/i.test(header) && !/;tag=/i.test(header) ? `${header};tag=recorder` : header));
    const response = [`SIP/2.0 ${status}`, ...copied, 'Content-Length: 0', '', ''].join('\r\n');
    this.socket.send(response, to.port, to.address);
  }
}
