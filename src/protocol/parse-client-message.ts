import { z } from 'zod';
import { GatewayError } from '../errors/gateway-error.js';
import type { ClientMessage, ClientMessageType } from './messages.js';

/**
 * Validation of client frames. The schemas mirror messages.ts; the
 * `satisfies` below makes the compiler reject any drift between the two.
 */

const id = z.string().min(1).max(64);
const callId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'must be 8-64 characters of A-Z a-z 0-9 _ -');
// Browsers' SDP for audio+video with many candidates stays well under this; the frame limit applies too.
const sdp = z.string().min(10).max(60_000).startsWith('v=0', 'must be SDP starting with v=0');

// A candidate is one SDP attribute line (RFC 8839 section 5.1): a line break or other control
// character in it would add lines where the gateway folds it into SDP, past the candidate filter.
const sdpLineText = (max: number) => z.string().max(max).regex(/^[^\x00-\x1f\x7f]*$/, 'must not contain control characters');
const candidate = z.strictObject({
  candidate: sdpLineText(1000),
  sdpMid: sdpLineText(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(255).nullable().optional(),
  usernameFragment: sdpLineText(256).nullable().optional(),
});

const schemas = {
  login: z.strictObject({
    type: z.literal('login'),
    id: id.optional(),
    protocol: z.number().int(),
    token: z.string().min(1).max(4096).optional(),
    name: z.string().min(1).max(64).optional(),
    sip: z
      .strictObject({
        aor: z.string().regex(/^sips?:[^\s<>"@]+@[^\s<>"]+$/, 'must be a sip: URI with a user part').max(300),
        password: z.string().min(1).max(256),
        username: z.string().min(1).max(128).optional(),
        registrar: z.string().regex(/^sips?:[^\s<>"]+$/, 'must be a sip: URI').max(300).optional(),
      })
      .optional(),
    xmpp: z
      .strictObject({
        jid: z.string().regex(/^[^\s@/<>"']+@[^\s@/<>"']+$/, 'must be a bare JID user@domain').max(300),
        password: z.string().min(1).max(256),
      })
      .optional(),
  }),
  resume: z.strictObject({
    type: z.literal('resume'),
    id: id.optional(),
    protocol: z.number().int(),
    token: z.string().min(1).max(128),
    received: z.number().int().min(0),
  }),
  message: z.strictObject({
    type: z.literal('message'),
    id: id.optional(),
    to: z.string().min(1).max(300),
    body: z.string().min(1).max(4096),
  }),
  ping: z.strictObject({ type: z.literal('ping'), id: id.optional() }),
  'presence-subscribe': z.strictObject({ type: z.literal('presence-subscribe'), id: id.optional() }),
  call: z.strictObject({
    type: z.literal('call'),
    id: id.optional(),
    callId,
    to: z.string().min(1).max(300),
    sdp,
    transferId: z.string().min(1).max(64).optional(),
  }),
  transfer: z.strictObject({ type: z.literal('transfer'), id: id.optional(), callId, to: z.string().min(1).max(300) }),
  ringing: z.strictObject({ type: z.literal('ringing'), id: id.optional(), callId }),
  accept: z.strictObject({ type: z.literal('accept'), id: id.optional(), callId, sdp }),
  reject: z.strictObject({
    type: z.literal('reject'),
    id: id.optional(),
    callId,
    reason: z.enum(['busy', 'declined', 'incompatible-media']).optional(),
  }),
  hangup: z.strictObject({
    type: z.literal('hangup'),
    id: id.optional(),
    callId,
    reason: z.enum(['incompatible-media', 'media-failed', 'failed']).optional(),
    detail: z.string().max(300).optional(),
  }),
  candidate: z.strictObject({ type: z.literal('candidate'), id: id.optional(), callId, candidate: candidate.nullable() }),
  offer: z.strictObject({ type: z.literal('offer'), id: id.optional(), callId, sdp }),
  answer: z.strictObject({ type: z.literal('answer'), id: id.optional(), callId, sdp }),
  dtmf: z.strictObject({
    type: z.literal('dtmf'),
    id: id.optional(),
    callId,
    digits: z.string().regex(/^[0-9*#A-Da-d]{1,32}$/, 'must be 1-32 of 0-9 * # A-D'),
  }),
} satisfies { [K in ClientMessageType]: z.ZodType<Extract<ClientMessage, { type: K }>> };

/** A frame that cannot be processed; `id` is the request id when one could be read. */
export class ProtocolError extends GatewayError {}

/** Parses one text frame into a client message, or throws ProtocolError with a precise code. */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad-json', 'frame is not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ProtocolError('bad-message', 'frame must be a JSON object');
  }
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') throw new ProtocolError('bad-message', 'field "type" is missing');
  if (!Object.hasOwn(schemas, type)) throw new ProtocolError('unknown-type', `unknown message type "${type.slice(0, 40)}"`);
  const result = schemas[type as ClientMessageType].safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys[0] : issue.path.join('.');
    const what = issue.code === 'unrecognized_keys' ? 'is not allowed' : issue.message;
    throw new ProtocolError('bad-message', `${type}: field "${field}" ${what}`);
  }
  return result.data as ClientMessage;
}

/** The request id of a frame that failed validation, so the error can name it. */
export function peekRequestId(text: string): string | undefined {
  try {
    const raw = JSON.parse(text) as { id?: unknown };
    return typeof raw?.id === 'string' && raw.id.length <= 64 ? raw.id : undefined;
  } catch {
    return undefined;
  }
}
