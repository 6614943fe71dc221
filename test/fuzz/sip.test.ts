import fc from 'fast-check';
import { Core } from 'sip.js';
import { describe, expect } from 'vitest';
import { frameDatagram } from '../../adapters/sip/transport/datagram-framer.js';
import { scanHeaders, splitOutsideQuotes } from '../../adapters/sip/transport/sip-header-fields.js';
import { missingMandatoryFields, peekSipMessage, type PeekedMessage } from '../../adapters/sip/transport/sip-message-peek.js';
import { parseSipUri, targetOfUri } from '../../adapters/sip/transport/sip-uri-target.js';
import { addReceivedRport, setTopViaSentBy } from '../../adapters/sip/transport/sip-via-rewrite.js';
import { DEFAULT_MAX_MESSAGE_BYTES, SipStreamFramer, type FramedItem } from '../../adapters/sip/transport/stream-framer.js';
import { fuzzProperty } from './fuzz-runs.js';
import { SIP_DICTIONARY, SIP_SAMPLES } from './sip-samples.js';
import { mutatedText } from './text-mutations.js';

// The SIP transport's parsers of peer bytes (RFC 3261 section 18): the stream framer (TCP, TLS),
// the datagram framer (UDP) and the cheap header reading the hub routes by.

const mutatedMessage = mutatedText(SIP_SAMPLES, { dictionary: SIP_DICTIONARY, maxLength: 80_000 });
const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;

function expectWellFormed(peeked: PeekedMessage): void {
  if (peeked.kind === 'request') {
    expect(peeked.method).toMatch(TOKEN);
    expect(peeked.requestUri).toMatch(/^[A-Za-z][A-Za-z0-9+.-]*:\S*$/);
  } else {
    expect(peeked.status).toBeGreaterThanOrEqual(100);
    expect(peeked.status).toBeLessThanOrEqual(699);
  }
  if (peeked.cseq) {
    expect(Number.isInteger(peeked.cseq.sequence) && peeked.cseq.sequence >= 0 && peeked.cseq.sequence < 2 ** 31).toBe(true);
    expect(peeked.cseq.method).toMatch(TOKEN);
  }
  if (peeked.callId !== undefined) expect(peeked.callId).toMatch(/^\S+$/);
  if (peeked.contentLength !== undefined) expect(Number.isInteger(peeked.contentLength)).toBe(true);
  const via = peeked.topVia;
  if (via) {
    expect(via.protocol).toMatch(TOKEN);
    expect(via.host).not.toBe('');
    for (const port of [via.port, via.rport]) if (port !== undefined) expect(Number.isInteger(port) && port >= 0 && port <= 65535).toBe(true);
    expect(peeked.viaCount).toBeGreaterThanOrEqual(1);
  }
}

describe('peekSipMessage', () => {
  fuzzProperty('never throws; what it reads is well-formed, and so is what the hub derives from it', 1000, () =>
    fc.property(mutatedMessage, (text) => {
      const peeked = peekSipMessage(text);
      if (!peeked) return;
      expectWellFormed(peeked);
      if (peeked.kind === 'request') {
        missingMandatoryFields(peeked);
        targetOfUri(peeked.requestUri);
      }
      for (const uri of [peeked.contactUri, peeked.firstRoute]) if (uri !== undefined) parseSipUri(uri);
    }),
  );

  fuzzProperty('the Via rewriters change the top Via only: the result reads the same apart from it', 800, () =>
    fc.property(mutatedMessage, (text) => {
      const before = peekSipMessage(text);
      if (!before?.topVia) return;
      const stamped = addReceivedRport(text, '192.0.2.99', 5099);
      const restored = setTopViaSentBy(text, { protocol: 'udp', host: 'gw.example.net', port: undefined });
      for (const rewritten of [stamped, restored]) {
        expect(rewritten).toBeDefined();
        const after = peekSipMessage(rewritten!);
        expect(after).toBeDefined();
        const { topVia: _before, ...otherBefore } = before;
        const { topVia: _after, ...otherAfter } = after!;
        expect(otherAfter).toStrictEqual(otherBefore);
        // Everything after the Via field, body included, is kept byte for byte.
        const via = scanHeaders(text)!.fields.find((field) => field.name === 'via')!;
        expect(rewritten!.endsWith(text.slice(via.end))).toBe(true);
      }
      expect(peekSipMessage(stamped!)!.topVia).toMatchObject({ received: '192.0.2.99', host: before.topVia.host, branch: before.topVia.branch });
      expect(peekSipMessage(restored!)!.topVia).toMatchObject({ protocol: 'UDP', host: 'gw.example.net', port: undefined, branch: before.topVia.branch });
    }),
  );

  const silent = { debug: () => {}, log: () => {}, warn: () => {}, error: () => {} } as unknown as Core.Logger;

  fuzzProperty('reads no routing fact other than the one sip.js, which gets the message next, reads', 600, () =>
    fc.property(mutatedMessage, (text) => {
      const peeked = peekSipMessage(text);
      if (!peeked) return;
      let parsed: Core.IncomingMessage | undefined;
      try {
        parsed = Core.Parser.parseMessage(text, silent);
      } catch {
        return; // sip.js 0.21 throws on some malformed responses; the hub's #deliver catches that
      }
      if (!parsed) return;
      if (peeked.kind === 'request' && missingMandatoryFields(peeked).length > 0) return; // refused with 400 before sip.js
      const theirs = {
        callId: parsed.callId || undefined,
        cseq: parsed.hasHeader('cseq') ? parsed.cseq : undefined,
        fromTag: parsed.fromTag || undefined,
        toTag: parsed.toTag || undefined,
        branch: parsed.viaBranch || undefined,
      };
      // sip.js 0.21 takes the LAST value of a `Via: a, b` field as the message's Via (reported, not
      // ours to fix here: the hub would have to split the field), so branches compare for one value only.
      const firstVia = scanHeaders(text)?.fields.find((field) => field.name === 'via');
      const oneValue = firstVia !== undefined && splitOutsideQuotes(firstVia.value, ',').length === 1;
      const ours = { callId: peeked.callId, cseq: peeked.cseq?.sequence, fromTag: peeked.fromTag, toTag: peeked.toTag, branch: oneValue ? peeked.topVia?.branch : undefined };
      // Where the hub reads a value (it may refuse to, for a malformed field), it is the one sip.js reads.
      for (const key of Object.keys(ours) as (keyof typeof ours)[]) if (ours[key] !== undefined) expect({ [key]: ours[key] }).toStrictEqual({ [key]: theirs[key] });
      if (parsed instanceof Core.IncomingRequestMessage && peeked.kind === 'request') expect(peeked.method).toBe(parsed.method);
    }),
  );
});

/** One sample with a huge run of something inserted: these must stay linear, and never recurse per item. */
const hugeMessage = fc
  .tuple(
    fc.constantFrom(...SIP_SAMPLES),
    fc.constantFrom('Via: SIP/2.0/UDP h;branch=z9hG4bK1, ', ';p=v', ';', ',', '"', '\\"', '<', '>', '<sip:a@b>, ', 'X-A: b\r\n', ' \r\n', '\r\n '),
    fc.integer({ min: 5_000, max: 60_000 }),
    fc.nat(),
  )
  .map(([sample, unit, times, at]) => {
    const lineStart = sample.indexOf('\n', at % sample.indexOf('\r\n\r\n')) + 1;
    return sample.slice(0, lineStart) + (unit.endsWith('\n') ? '' : 'Via: SIP/2.0/UDP h;branch=z9hG4bK1') + unit.repeat(Math.floor(times / unit.length)) + (unit.endsWith('\n') ? '' : '\r\n') + sample.slice(lineStart);
  });

describe('huge messages', () => {
  fuzzProperty('peek, the Via rewriters and both framers get through them', 12, () =>
    fc.property(hugeMessage, (text) => {
      peekSipMessage(text);
      addReceivedRport(text, '192.0.2.99', 5099);
      frame(Buffer.from(text), [], 1_000_000);
      frameDatagram(Buffer.from(text), 1_000_000);
    }),
  );
});

/** Bytes that separate and precede messages on a stream: keep-alives (RFC 5626 section 3.5.1) and stray line ends. */
const keepAlive = fc.constantFrom('\r\n\r\n', '\r\n', '\n', '\r', '\r\n\r\n\r\n', '\n\n\n', '\r\r\n');

interface Framing {
  readonly items: FramedItem[];
  readonly failed: boolean;
}

/** Pushes `stream` in the given pieces; checks after each push that the held bytes stay under the limit. */
function frame(stream: Buffer, cuts: readonly number[], maxMessageBytes: number): Framing {
  const framer = new SipStreamFramer({ maxMessageBytes });
  const points = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const items: FramedItem[] = [];
  let start = 0;
  for (const end of [...points, stream.length]) {
    const { items: out, error } = framer.push(stream.subarray(start, end));
    items.push(...out);
    if (error) return { items, failed: true };
    expect(framer.bufferedBytes).toBeLessThanOrEqual(maxMessageBytes);
    start = end;
  }
  return { items, failed: false };
}

const maxMessageBytes = fc.oneof(fc.constant(DEFAULT_MAX_MESSAGE_BYTES), fc.integer({ min: 64, max: 4000 }));
const cuts = fc.array(fc.nat(), { maxLength: 40 });
/** Streams of whole, damaged and garbage messages with keep-alives between them. */
const stream = fc.array(fc.oneof(fc.constantFrom(...SIP_SAMPLES), mutatedMessage, keepAlive, fc.string({ unit: 'binary', maxLength: 30 })), { minLength: 1, maxLength: 5 });

describe('SipStreamFramer', () => {
  fuzzProperty('frames the same items however the stream is cut, and holds at most maxMessageBytes', 600, () =>
    fc.property(stream, cuts, maxMessageBytes, (parts, at, max) => {
      const bytes = Buffer.from(parts.join(''));
      expect(frame(bytes, at, max)).toStrictEqual(frame(bytes, [], max));
    }),
  );

  fuzzProperty('gives back exactly the messages and pings of a well-formed stream', 300, () =>
    fc.property(fc.array(fc.tuple(fc.constantFrom('', '\r\n', '\r\n\r\n'), fc.constantFrom(...SIP_SAMPLES)), { minLength: 1, maxLength: 6 }), cuts, (pairs, at) => {
      const bytes = Buffer.from(pairs.map(([alive, message]) => alive + message).join(''));
      const { items, failed } = frame(bytes, at, DEFAULT_MAX_MESSAGE_BYTES);
      expect(failed).toBe(false);
      const expected = pairs.flatMap(([alive, message]) => [...(alive === '\r\n\r\n' ? [{ kind: 'ping' }] : []), { kind: 'message', message, bytes: Buffer.byteLength(message) }]);
      expect(items).toStrictEqual(expected);
    }),
  );

  // Fails until the framer stops recursing once per stray line end (fixed on another branch).
  fuzzProperty('survives long runs of bare LF or CR between messages', 20, () =>
    fc.property(fc.constantFrom('\n', '\r', '\r\n', '\n\r'), fc.integer({ min: 5_000, max: 40_000 }), fc.constantFrom(...SIP_SAMPLES), cuts, (unit, times, message, at) => {
      const bytes = Buffer.from(unit.repeat(times) + message);
      const whole = frame(bytes, [], DEFAULT_MAX_MESSAGE_BYTES);
      expect(whole.items.filter((item) => item.kind === 'message')).toStrictEqual([{ kind: 'message', message, bytes: Buffer.byteLength(message) }]);
      expect(frame(bytes, at, DEFAULT_MAX_MESSAGE_BYTES)).toStrictEqual(whole);
    }),
  );

  fuzzProperty('agrees with peekSipMessage on where the headers end and on Content-Length', 1000, () =>
    fc.property(mutatedMessage, (text) => {
      const bytes = Buffer.from(text);
      const first = frame(bytes, [], DEFAULT_MAX_MESSAGE_BYTES).items.find((item) => item.kind === 'message');
      if (first?.kind !== 'message') return;
      const offset = bytes.findIndex((byte) => byte !== 13 && byte !== 10);
      const raw = bytes.subarray(offset, offset + first.bytes);
      if (!Buffer.from(first.message).equals(raw)) return; // not UTF-8: offsets in the decoded text differ
      const peeked = peekSipMessage(first.message);
      // A message in bare LF throughout is read leniently by peek (for datagrams); the framer, like
      // sip.js, knows only CRLF, so there is nothing to agree on.
      if (!peeked || !/^[^\n]*\r\n/.test(first.message)) return;
      const headerEnd = raw.indexOf('\r\n\r\n') + 4;
      expect(Buffer.byteLength(first.message.slice(0, scanHeaders(first.message)!.bodyStart))).toBe(headerEnd);
      if (peeked.contentLength !== undefined) expect(peeked.contentLength).toBe(first.bytes - headerEnd);
    }),
  );
});

describe('frameDatagram', () => {
  fuzzProperty('never throws; a message is the datagram or a prefix of it cut after Content-Length', 1000, () =>
    fc.property(fc.oneof(mutatedMessage, fc.string({ unit: 'binary', maxLength: 64 })), fc.oneof(fc.constant(DEFAULT_MAX_MESSAGE_BYTES), fc.integer({ min: 1, max: 4000 })), (text, max) => {
      const datagram = Buffer.from(text);
      const framed = frameDatagram(datagram, max);
      if (framed.kind !== 'message') return;
      expect(datagram.length).toBeLessThanOrEqual(max);
      if (framed.message === datagram.toString('utf8')) return;
      // Cut short: the header part, then exactly Content-Length bytes (RFC 3261 section 18.3), as peekSipMessage reads it.
      const headerEnd = datagram.indexOf('\r\n\r\n') + 4;
      expect(headerEnd).toBeGreaterThanOrEqual(4);
      const contentLength = peekSipMessage(datagram.toString('utf8', 0, headerEnd))?.contentLength;
      if (contentLength !== undefined) expect(framed.message).toBe(datagram.toString('utf8', 0, headerEnd + contentLength));
    }),
  );
});
