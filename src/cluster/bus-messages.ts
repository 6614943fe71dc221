import type { LegMediaCapabilities } from '../calls/leg.js';
import type { PartyIdentity } from '../policy/party-identity.js';
import type { EndReason, ErrorCode } from '../protocol/messages.js';

/**
 * What nodes say to each other on the bus (a Redis channel per node). Every message names its
 * sender (`from`); a node acts only on messages about calls it has with that very sender.
 *
 * A call has one owner: the node where it was placed, which runs the Call (its ordered queue,
 * its media session). A party on another node is a RemoteLeg at the owner and a HostedLeg where
 * the party is: the owner sends the leg's commands (`cmd`), the host sends the party's events
 * (`event`), each numbered per call and direction, so a lost message is noticed, never skipped.
 */

/** Leg commands the owner sends the host (the Leg interface's methods). */
export const LEG_COMMANDS = [
  'deliverCall',
  'notifyRinging',
  'notifyEarlyMedia',
  'notifyAnswered',
  'sendCandidate',
  'sendOffer',
  'sendAnswer',
  'sendDtmf',
  'requestTransfer',
  'transferOutcome',
  'end',
] as const;
export type LegCommand = (typeof LEG_COMMANDS)[number];

/** Leg events the host sends the owner (LegEvents but `listenererror`). */
export const LEG_EVENTS = ['ringing', 'progress', 'answered', 'candidate', 'offer', 'answer', 'dtmf', 'transfer', 'ended'] as const;
export type LegEventName = (typeof LEG_EVENTS)[number];

/** A chat message as it crosses the bus (ChatMessage without its callback). */
export interface BusChatMessage {
  id: string;
  from: string;
  sender: PartyIdentity;
  to: string;
  body: string;
}

export type BusMessage =
  /** Owner -> host: create the leg that reaches `target` (a web user's session, an XMPP address). */
  | { kind: 'open'; req: string; callId: string; target: string; sessionId?: string; caller: PartyIdentity; onBehalfOf: PartyIdentity[]; fromAddress: string }
  /** Host -> owner: the leg exists; what the owner's RemoteLeg must know of it. */
  | { kind: 'opened'; req: string; callId: string; address: string; capabilities: LegMediaCapabilities; identity: PartyIdentity; transfers: boolean; signalingAddress?: string }
  /** A request (open, deliverCall, chat) succeeded. */
  | { kind: 'done'; req: string }
  /** A request failed: `reason` for calls, `code` for chat. */
  | { kind: 'failed'; req: string; reason: EndReason; code?: ErrorCode; message: string }
  | { kind: 'cmd'; callId: string; seq: number; op: LegCommand; args: unknown[]; req?: string }
  | { kind: 'event'; callId: string; seq: number; event: LegEventName; args: unknown[] }
  /** Owner -> host: a chat message for a party there. */
  | { kind: 'chat'; req: string; sessionId?: string; message: BusChatMessage }
  /** Host -> owner: a chat message handed on earlier bounced (an XMPP error reply). */
  | { kind: 'bounce'; messageId: string; code: ErrorCode; message: string };

export type Envelope = BusMessage & { from: string };

const KINDS = new Set(['open', 'opened', 'done', 'failed', 'cmd', 'event', 'chat', 'bounce']);
const COMMANDS = new Set<string>(LEG_COMMANDS);
const EVENTS = new Set<string>(LEG_EVENTS);

export class BusMessageError extends Error {
  override readonly name = 'BusMessageError';
}

const isString = (value: unknown, max = 1024): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;

/**
 * Parses a bus message. The bus is internal, but a message that is not what it says is dropped
 * rather than allowed to throw inside a leg: the fields each kind relies on are checked here.
 */
export function parseEnvelope(text: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new BusMessageError('not JSON');
  }
  if (typeof value !== 'object' || value === null) throw new BusMessageError('not an object');
  const message = value as Record<string, unknown>;
  if (!isString(message.from, 64) || !KINDS.has(message.kind as string)) throw new BusMessageError('no sender or unknown kind');
  const need = (field: string, check: (v: unknown) => boolean) => {
    if (!check(message[field])) throw new BusMessageError(`${String(message.kind)}: bad ${field}`);
  };
  const isSeq = (v: unknown) => Number.isSafeInteger(v) && (v as number) > 0;
  switch (message.kind) {
    case 'open':
      need('req', isString);
      need('callId', isString);
      need('target', isString);
      need('fromAddress', isString);
      need('caller', (v) => typeof v === 'object' && v !== null);
      need('onBehalfOf', Array.isArray);
      break;
    case 'opened':
      need('req', isString);
      need('address', isString);
      need('capabilities', (v) => typeof v === 'object' && v !== null);
      need('identity', (v) => typeof v === 'object' && v !== null);
      break;
    case 'done':
    case 'failed':
      need('req', isString);
      break;
    case 'cmd':
      need('callId', isString);
      need('seq', isSeq);
      need('op', (v) => COMMANDS.has(v as string));
      need('args', Array.isArray);
      break;
    case 'event':
      need('callId', isString);
      need('seq', isSeq);
      need('event', (v) => EVENTS.has(v as string));
      need('args', Array.isArray);
      break;
    case 'chat':
      need('req', isString);
      need('message', (v) => typeof v === 'object' && v !== null && isString((v as BusChatMessage).to) && typeof (v as BusChatMessage).body === 'string');
      break;
    case 'bounce':
      need('messageId', isString);
      break;
  }
  return message as unknown as Envelope;
}
