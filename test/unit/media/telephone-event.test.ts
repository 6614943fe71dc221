import { describe, expect, it } from 'vitest';
import {
  TelephoneEventReceiver,
  decodeTelephoneEvent,
  digitToEvent,
  dtmfPackets,
  encodeTelephoneEvent,
  eventToDigit,
} from '../../../src/media/telephone-event.js';

describe('telephone-event payload (RFC 4733 section 2.3)', () => {
  it('encodes event, E bit, volume and duration', () => {
    expect(encodeTelephoneEvent({ event: 5, end: true, volume: 10, duration: 800 })).toEqual(Buffer.from('058a0320', 'hex'));
    expect(encodeTelephoneEvent({ event: 11, end: false, volume: 63, duration: 0xffff })).toEqual(Buffer.from('0b3fffff', 'hex'));
  });

  it('decodes what it encodes', () => {
    const event = { event: 15, end: false, volume: 7, duration: 1234 };
    expect(decodeTelephoneEvent(encodeTelephoneEvent(event))).toEqual(event);
  });

  it('ignores the reserved R bit and trailing bytes', () => {
    expect(decodeTelephoneEvent(Buffer.from('01ca0140ffff', 'hex'))).toEqual({ event: 1, end: true, volume: 10, duration: 320 });
  });

  it('rejects short payloads and out-of-range fields', () => {
    expect(decodeTelephoneEvent(Buffer.from('0180', 'hex'))).toBeUndefined();
    expect(() => encodeTelephoneEvent({ event: 256, end: false, volume: 0, duration: 0 })).toThrow(RangeError);
    expect(() => encodeTelephoneEvent({ event: 1, end: false, volume: 64, duration: 0 })).toThrow(RangeError);
    expect(() => encodeTelephoneEvent({ event: 1, end: false, volume: 0, duration: 65536 })).toThrow(RangeError);
  });
});

describe('digits (RFC 4733 section 3.2)', () => {
  it('maps the sixteen DTMF digits to events 0-15 and back', () => {
    const digits = '0123456789*#ABCD';
    [...digits].forEach((digit, code) => {
      expect(digitToEvent(digit)).toBe(code);
      expect(eventToDigit(code)).toBe(digit);
    });
  });

  it('throws a TypeError for anything else', () => {
    for (const bad of ['', 'E', 'a', '55', ' ', '+']) expect(() => digitToEvent(bad)).toThrow(TypeError);
  });

  it('has no digit for other events', () => {
    expect(eventToDigit(16)).toBeUndefined();
    expect(eventToDigit(-1)).toBeUndefined();
    expect(eventToDigit(1.5)).toBeUndefined();
  });
});

describe('dtmfPackets', () => {
  it('sends updates every ptime, then the end packet three times (section 2.5.1.4)', () => {
    const packets = dtmfPackets('5', { clockRate: 8000 });
    expect(packets.map((p) => p.durationSamples)).toEqual([160, 320, 480, 640, 800, 800, 800]);
    expect(packets.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    const decoded = packets.map((p) => decodeTelephoneEvent(p.payload)!);
    expect(decoded.map((e) => e.end)).toEqual([false, false, false, false, true, true, true]);
    expect(decoded.every((e) => e.event === 5 && e.volume === 10)).toBe(true);
    expect(decoded.map((e) => e.duration)).toEqual([160, 320, 480, 640, 800, 800, 800]);
  });

  it('honours duration, ptime and clock rate', () => {
    const packets = dtmfPackets('#', { clockRate: 8000, durationMs: 50, ptimeMs: 20 });
    expect(packets.map((p) => p.durationSamples)).toEqual([160, 320, 400, 400, 400]);
    const wideband = dtmfPackets('1', { clockRate: 16000, durationMs: 60, ptimeMs: 30 });
    expect(wideband.map((p) => p.durationSamples)).toEqual([480, 960, 960, 960]);
  });

  it('marks the first packet even when the event fits one update', () => {
    const packets = dtmfPackets('0', { clockRate: 8000, durationMs: 20 });
    expect(packets).toHaveLength(3);
    expect(packets.map((p) => p.marker)).toEqual([true, false, false]);
  });

  it('refuses bad digits and events too long for the 16-bit duration', () => {
    expect(() => dtmfPackets('x', { clockRate: 8000 })).toThrow(TypeError);
    expect(() => dtmfPackets('1', { clockRate: 8000, durationMs: 9000 })).toThrow(RangeError);
    expect(() => dtmfPackets('1', { clockRate: 0 })).toThrow(RangeError);
  });
});

describe('TelephoneEventReceiver', () => {
  const feed = (receiver: TelephoneEventReceiver, timestamp: number, digit: string): (string | undefined)[] =>
    dtmfPackets(digit, { clockRate: 8000 }).map((p) => receiver.push(timestamp, p.payload));

  it('reports each digit once, on its first end packet', () => {
    const receiver = new TelephoneEventReceiver();
    expect(feed(receiver, 1000, '5')).toEqual([undefined, undefined, undefined, undefined, '5', undefined, undefined]);
    expect(feed(receiver, 3000, '#').filter(Boolean)).toEqual(['#']);
  });

  it('ignores late retransmissions of an event already reported', () => {
    const receiver = new TelephoneEventReceiver();
    const packets = dtmfPackets('7', { clockRate: 8000 });
    feed(receiver, 500, '7');
    feed(receiver, 2000, '8');
    expect(receiver.push(500, packets.at(-1)!.payload)).toBeUndefined();
    expect(receiver.push(500, packets[0]!.payload)).toBeUndefined();
  });

  it('reports an event whose end packets were all lost when the next one starts', () => {
    const receiver = new TelephoneEventReceiver();
    const one = dtmfPackets('1', { clockRate: 8000 }).filter((p) => !decodeTelephoneEvent(p.payload)!.end);
    for (const p of one) expect(receiver.push(100, p.payload)).toBeUndefined();
    const two = dtmfPackets('2', { clockRate: 8000 });
    expect(receiver.push(900, two[0]!.payload)).toBe('1');
    expect(two.slice(1).map((p) => receiver.push(900, p.payload)).filter(Boolean)).toEqual(['2']);
  });

  it('reports both digits when a lone end packet follows an unfinished event', () => {
    const receiver = new TelephoneEventReceiver();
    receiver.push(100, encodeTelephoneEvent({ event: 3, end: false, volume: 10, duration: 160 }));
    expect(receiver.push(900, encodeTelephoneEvent({ event: 4, end: true, volume: 10, duration: 800 }))).toBe('34');
  });

  it('flushes a pending event and ignores non-digit events and junk', () => {
    const receiver = new TelephoneEventReceiver();
    expect(receiver.push(1, Buffer.from('09', 'hex'))).toBeUndefined();
    receiver.push(100, encodeTelephoneEvent({ event: 9, end: false, volume: 10, duration: 160 }));
    expect(receiver.flush()).toBe('9');
    expect(receiver.flush()).toBeUndefined();
    expect(receiver.push(200, encodeTelephoneEvent({ event: 16, end: true, volume: 10, duration: 800 }))).toBeUndefined();
  });
});
