import { describe, expect, it } from 'vitest';
import { frameDatagram } from '../../../adapters/sip/transport/datagram-framer.js';
import { SipStreamFramer, type FramedItem } from '../../../adapters/sip/transport/stream-framer.js';

function sipMessage(callId: string, body = ''): string {
  return [
    'MESSAGE sip:bob@192.0.2.2 SIP/2.0',
    'Via: SIP/2.0/TCP 192.0.2.1:5060;branch=z9hG4bK' + callId,
    `Call-ID: ${callId}`,
    'CSeq: 1 MESSAGE',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

const messages = (items: FramedItem[]): string[] => items.flatMap((item) => (item.kind === 'message' ? [item.message] : []));

describe('SipStreamFramer', () => {
  it('frames messages split at every byte boundary', () => {
    const text = sipMessage('split', 'héllo wörld');
    const framer = new SipStreamFramer();
    const bytes = Buffer.from(text);
    const out: FramedItem[] = [];
    for (let index = 0; index < bytes.length; index++) {
      const { items, error } = framer.push(bytes.subarray(index, index + 1));
      expect(error).toBeUndefined();
      out.push(...items);
    }
    // Content-Length counts bytes: multi-byte UTF-8 characters must not cut the body short.
    expect(messages(out)).toEqual([text]);
    expect(framer.bufferedBytes).toBe(0);
  });

  it('frames several messages merged in one chunk and keeps the remainder', () => {
    const first = sipMessage('one', 'body-1');
    const second = sipMessage('two');
    const third = sipMessage('three', 'x'.repeat(20));
    const framer = new SipStreamFramer();
    const merged = Buffer.from(first + second + third.slice(0, 30));
    expect(messages(framer.push(merged).items)).toEqual([first, second]);
    expect(messages(framer.push(Buffer.from(third.slice(30))).items)).toEqual([third]);
  });

  it('finds Content-Length anywhere in the header block', () => {
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 4\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nCall-ID: c\r\n\r\nbody';
    expect(messages(new SipStreamFramer().push(Buffer.from(text)).items)).toEqual([text]);
  });

  it('reads the compact Content-Length form', () => {
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nv: SIP/2.0/TCP h;branch=z9hG4bK1\r\nl:   3\r\n\r\nabc';
    expect(messages(new SipStreamFramer().push(Buffer.from(text)).items)).toEqual([text]);
  });

  it('reports double-CRLF pings and skips single-CRLF pongs (RFC 5626 section 3.5.1)', () => {
    const framer = new SipStreamFramer();
    const first = framer.push(Buffer.from('\r\n\r\n'));
    expect(first.items).toEqual([{ kind: 'ping' }]);
    // A lone CRLF may be half a ping: wait for more.
    expect(framer.push(Buffer.from('\r\n')).items).toEqual([]);
    expect(framer.push(Buffer.from('\r\n')).items).toEqual([{ kind: 'ping' }]);
    const text = sipMessage('after-pong');
    const afterPong = framer.push(Buffer.from(`\r\n${text}\r\n\r\n`));
    expect(afterPong.items).toEqual([{ kind: 'message', message: text, bytes: Buffer.byteLength(text) }, { kind: 'ping' }]);
  });

  it('skips 20,000 bare LFs and CRLFs before a message without recursing per byte', () => {
    const text = sipMessage('after-noise');
    for (const noise of ['\n'.repeat(20_000), '\r\n'.repeat(20_000) + '\n']) {
      const framer = new SipStreamFramer();
      const { items, error } = framer.push(Buffer.from(noise + text));
      expect(error).toBeUndefined();
      expect(messages(items)).toEqual([text]);
      expect(framer.bufferedBytes).toBe(0);
    }
    // Byte by byte too, and the noise alone leaves nothing but a possible half ping buffered.
    const framer = new SipStreamFramer();
    const out: FramedItem[] = [];
    for (let index = 0; index < 20_000; index++) out.push(...framer.push(Buffer.from('\n')).items);
    expect(framer.bufferedBytes).toBeLessThanOrEqual(3);
    out.push(...framer.push(Buffer.from(text)).items);
    expect(messages(out)).toEqual([text]);
  });

  it('tells whether part of a message is waiting, as opposed to keep-alive line endings', () => {
    const framer = new SipStreamFramer();
    expect(framer.messagePending).toBe(false);
    framer.push(Buffer.from('\r\n'));
    expect(framer.messagePending).toBe(false);
    framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\n'));
    expect(framer.messagePending).toBe(true);
    framer.push(Buffer.from('Content-Length: 0\r\n\r\n'));
    expect(framer.messagePending).toBe(false);
  });

  it('fails a message without Content-Length (RFC 3261 section 18.3) and stays failed', () => {
    const framer = new SipStreamFramer();
    const result = framer.push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\n\r\n'));
    expect(result.items).toEqual([]);
    expect(result.error?.code).toBe('missing-content-length');
    expect(framer.push(Buffer.from(sipMessage('late'))).error?.code).toBe('missing-content-length');
  });

  it('fails a non-numeric Content-Length', () => {
    const result = new SipStreamFramer().push(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nContent-Length: ten\r\n\r\n'));
    expect(result.error?.code).toBe('bad-content-length');
  });

  it('fails oversize messages, announced or endless', () => {
    const announced = new SipStreamFramer({ maxMessageBytes: 200 }).push(Buffer.from(sipMessage('big', 'x'.repeat(300)).slice(0, 150)));
    expect(announced.error?.code).toBe('message-too-large');
    const endless = new SipStreamFramer({ maxMessageBytes: 200 });
    expect(endless.push(Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\nX-Junk: ${'y'.repeat(150)}\r\n`)).error).toBeUndefined();
    expect(endless.push(Buffer.from(`X-More: ${'y'.repeat(100)}\r\n`)).error?.code).toBe('message-too-large');
  });

  it('delivers the messages framed before the error', () => {
    const good = sipMessage('good');
    const result = new SipStreamFramer().push(Buffer.from(`${good}BROKEN sip:a@b SIP/2.0\r\n\r\n`));
    expect(messages(result.items)).toEqual([good]);
    expect(result.error?.code).toBe('missing-content-length');
  });
});

describe('frameDatagram', () => {
  it('passes a datagram without Content-Length whole (RFC 3261 section 18.3)', () => {
    const text = 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\r\n';
    expect(frameDatagram(Buffer.from(text), 65536)).toEqual({ kind: 'message', message: text });
  });

  it('discards bytes past Content-Length', () => {
    const text = sipMessage('udp', 'abc');
    expect(frameDatagram(Buffer.from(`${text}trailing junk`), 65536)).toEqual({ kind: 'message', message: text });
  });

  it('ignores CRLF and STUN keep-alives', () => {
    expect(frameDatagram(Buffer.from('\r\n\r\n'), 65536).kind).toBe('keep-alive');
    expect(frameDatagram(Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42]), 65536).kind).toBe('keep-alive');
  });

  it('refuses an oversize datagram', () => {
    expect(frameDatagram(Buffer.from(sipMessage('big', 'x'.repeat(500))), 200).kind).toBe('invalid');
  });
});
