import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { filterSdpCandidates, makeCandidateFilter } from '../../src/ice/candidate-filter.js';
import { sdpWithCandidates } from '../../src/ice/sdp-with-candidates.js';
import type { ClientMessage } from '../../src/protocol/messages.js';
import { parseClientMessage, peekRequestId, ProtocolError } from '../../src/protocol/parse-client-message.js';
import { fuzzProperty, typedOutcome } from './fuzz-runs.js';
import { WEBRTC_SDP } from './sdp-samples.js';
import { mutatedText } from './text-mutations.js';

// The browser protocol (JSON frames over the WebSocket, docs/protocol.md): what any web page,
// logged in or not, can send.

const id = fc.string({ minLength: 1, maxLength: 64 });
const callId = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);
const sdp = fc.oneof(fc.constantFrom(...WEBRTC_SDP), fc.string({ minLength: 7, maxLength: 200 }).map((rest) => `v=0${rest}`));
const to = fc.string({ minLength: 1, maxLength: 300 });
const candidateLine = fc.constantFrom(...WEBRTC_SDP.flatMap((text) => text.split('\r\n').filter((line) => line.startsWith('a=candidate:')).map((line) => line.slice(2))));
const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

/** One valid frame of each client message type (src/protocol/messages.ts), optional fields sometimes left out. */
const validMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({
    type: fc.constant('login' as const),
    id: optional(id),
    protocol: fc.integer(),
    token: optional(fc.string({ minLength: 1, maxLength: 4096 })),
    name: optional(fc.string({ minLength: 1, maxLength: 64 })),
    sip: optional(
      fc.record({
        aor: fc.stringMatching(/^sips?:[a-z0-9.+_-]{1,40}@[a-z0-9.:-]{1,60}$/),
        password: fc.string({ minLength: 1, maxLength: 256 }),
        username: optional(fc.string({ minLength: 1, maxLength: 128 })),
        registrar: optional(fc.stringMatching(/^sips?:[a-z0-9.:;=-]{1,80}$/)),
      }),
    ),
    xmpp: optional(fc.record({ jid: fc.stringMatching(/^[a-z0-9._-]{1,40}@[a-z0-9.-]{1,60}$/), password: fc.string({ minLength: 1, maxLength: 256 }) })),
  }),
  fc.record({ type: fc.constant('message' as const), id: optional(id), to, body: fc.string({ minLength: 1, maxLength: 4096 }) }),
  fc.record({ type: fc.constantFrom('ping' as const, 'presence-subscribe' as const), id: optional(id) }),
  fc.record({ type: fc.constant('call' as const), id: optional(id), callId, to, sdp, transferId: optional(fc.string({ minLength: 1, maxLength: 64 })) }),
  fc.record({ type: fc.constant('transfer' as const), id: optional(id), callId, to }),
  fc.record({ type: fc.constantFrom('ringing' as const, 'hangup' as const), id: optional(id), callId }),
  fc.record({ type: fc.constantFrom('accept' as const, 'offer' as const, 'answer' as const), id: optional(id), callId, sdp }),
  fc.record({ type: fc.constant('reject' as const), id: optional(id), callId, reason: optional(fc.constantFrom('busy' as const, 'declined' as const, 'incompatible-media' as const)) }),
  fc.record({
    type: fc.constant('candidate' as const),
    id: optional(id),
    callId,
    candidate: fc.option(
      fc.record({
        candidate: candidateLine,
        sdpMid: optional(fc.option(fc.constantFrom('0', '1', 'audio'), { nil: null })),
        sdpMLineIndex: optional(fc.option(fc.integer({ min: 0, max: 255 }), { nil: null })),
        usernameFragment: optional(fc.option(fc.string({ minLength: 1, maxLength: 256 }), { nil: null })),
      }),
      { nil: null },
    ),
  }),
  fc.record({ type: fc.constant('dtmf' as const), id: optional(id), callId, digits: fc.stringMatching(/^[0-9*#A-Da-d]{1,32}$/) }),
);

/** As JSON carries it: fields left undefined are not in the frame. */
const plain = (message: unknown): unknown => JSON.parse(JSON.stringify(message));

/** A valid frame changed at the JSON level: a field dropped, added, retyped, huge or deeply nested. */
type JsonMutation =
  | { readonly kind: 'drop'; readonly at: number }
  | { readonly kind: 'add'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'retype'; readonly at: number; readonly value: unknown }
  | { readonly kind: 'nest'; readonly at: number; readonly depth: number };

const jsonMutation: fc.Arbitrary<JsonMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom('__proto__', 'constructor', 'toString', 'extra', 'type', 'id', 'callId'), value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant('retype' as const), at: fc.nat(), value: fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(null, [], {}, '', 0, -1, 1e300, 'x'.repeat(70_000))) }),
  fc.record({ kind: fc.constant('nest' as const), at: fc.nat(), depth: fc.integer({ min: 1, max: 100_000 }) }),
);

function mutateJson(message: Record<string, unknown>, mutations: readonly JsonMutation[]): string {
  const fields = { ...message };
  for (const m of mutations) {
    const keys = Object.keys(fields);
    const key = m.kind === 'add' ? m.key : (keys[m.at % Math.max(keys.length, 1)] ?? 'type');
    if (m.kind === 'drop') delete fields[key];
    // defineProperty, so `__proto__` becomes an own key as JSON.parse makes it.
    else if (m.kind === 'add') Object.defineProperty(fields, key, { value: m.value, enumerable: true, configurable: true, writable: true });
    else if (m.kind === 'retype') fields[key] = m.value;
    else return JSON.stringify(fields).replace(`"${key}":`, `"${key}":${'['.repeat(m.depth)}0${']'.repeat(m.depth)},"_":`);
  }
  return JSON.stringify(fields);
}

const anyFrame = fc.oneof(
  fc.string(),
  fc.json(),
  mutatedText(['{"type":"login","protocol":1,"name":"alice"}', '{"type":"call","callId":"abcdefgh","to":"xmpp:carol@example.org","sdp":"v=0\\r\\n"}'], {
    dictionary: ['"', '\\', '\\u0000', '\\ud800', '{', '}', '[', ']', ',', ':', 'null', 'true', '1e999', '-0', '"__proto__"', '"type"'],
  }),
  fc.tuple(validMessage, fc.array(jsonMutation, { minLength: 1, maxLength: 3 })).map(([message, mutations]) => mutateJson(plain(message) as Record<string, unknown>, mutations)),
);

describe('parseClientMessage', () => {
  fuzzProperty('throws nothing but ProtocolError (bad-json, bad-message, unknown-type), whatever the frame', 1500, () =>
    fc.property(anyFrame, (text) => {
      const outcome = typedOutcome(() => parseClientMessage(text), ProtocolError);
      if ('error' in outcome) expect(['bad-json', 'bad-message', 'unknown-type']).toContain((outcome.error as ProtocolError).code);
      const requestId = peekRequestId(text);
      if (requestId !== undefined) expect(requestId.length).toBeLessThanOrEqual(64);
    }),
  );

  fuzzProperty('returns a valid frame of any type as it was sent', 2000, () =>
    fc.property(validMessage, (message) => {
      const text = JSON.stringify(message);
      expect(parseClientMessage(text)).toStrictEqual(plain(message));
      expect(peekRequestId(text)).toBe(message.id);
    }),
  );

  // A candidate the protocol and the candidate filter let through must not be able to carry
  // another SDP line: relayed to a party that does not trickle, it is folded into the SDP.
  fuzzProperty('a trickled candidate it accepts, folded into SDP, adds only candidates the filter accepts', 1000, () =>
    fc.property(
      callId,
      candidateLine,
      fc.constantFrom('', '\r\na=candidate:9 1 udp 1 10.9.8.7 9999 typ host', '\na=ice-lite', '\r\nm=audio 1 RTP/AVP 0', '\u0000'),
      fc.constantFrom(' generation 0', ' generation', ''),
      (call, line, injected, extension) => {
        const filter = makeCandidateFilter(['192.168.0.0/16', '203.0.113.0/24', '198.51.100.0/24', '2001:db8::/32']);
        const text = JSON.stringify({ type: 'candidate', callId: call, candidate: { candidate: line + extension + injected, sdpMid: '0', sdpMLineIndex: 0 } });
        const parsed = typedOutcome(() => parseClientMessage(text), ProtocolError);
        if (!('value' in parsed) || parsed.value.type !== 'candidate' || !parsed.value.candidate || !filter(parsed.value.candidate.candidate)) return;
        const folded = sdpWithCandidates(filterSdpCandidates(WEBRTC_SDP[0]!, filter), [parsed.value.candidate]);
        const candidates = folded.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'));
        for (const candidate of candidates) expect(filter(candidate), candidate).toBe(true);
        expect(folded.split(/\r?\n/).filter((l) => l.startsWith('m=')).length).toBe(WEBRTC_SDP[0]!.split(/\r?\n/).filter((l) => l.startsWith('m=')).length);
      },
    ),
  );
});
