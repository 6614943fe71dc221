import type { EndReason } from '../../src/index.js';

/** XEP-0166 section 7.4 `<reason/>` conditions. */
export type JingleReason =
  | 'alternative-session'
  | 'busy'
  | 'cancel'
  | 'connectivity-error'
  | 'decline'
  | 'expired'
  | 'failed-application'
  | 'failed-transport'
  | 'general-error'
  | 'gone'
  | 'incompatible-parameters'
  | 'media-error'
  | 'security-error'
  | 'success'
  | 'timeout'
  | 'unsupported-applications'
  | 'unsupported-transports';

const TO_JINGLE: Record<EndReason, JingleReason> = {
  hangup: 'success',
  cancelled: 'cancel',
  busy: 'busy',
  declined: 'decline',
  'not-found': 'gone',
  offline: 'gone',
  'no-answer': 'timeout',
  forbidden: 'decline',
  'incompatible-media': 'incompatible-parameters',
  // XEP-0166 section 7.4: the party "has been unable to initialize processing related to the application type".
  'media-failed': 'failed-application',
  unreachable: 'connectivity-error',
  overloaded: 'general-error',
  'connection-lost': 'connectivity-error',
  // The party's media stopped reaching the gateway: a connectivity problem rather than a codec one (media-error).
  'media-timeout': 'connectivity-error',
  shutdown: 'gone',
  'node-lost': 'connectivity-error',
  failed: 'general-error',
};

const FROM_JINGLE: Partial<Record<string, EndReason>> = {
  success: 'hangup',
  cancel: 'cancelled',
  busy: 'busy',
  decline: 'declined',
  gone: 'offline',
  timeout: 'no-answer',
  expired: 'no-answer',
  'incompatible-parameters': 'incompatible-media',
  'unsupported-applications': 'incompatible-media',
  'unsupported-transports': 'incompatible-media',
  'failed-application': 'media-failed',
  'media-error': 'media-failed',
  'connectivity-error': 'unreachable',
  'failed-transport': 'unreachable',
};

/** Core end reason → Jingle reason for session-terminate / JMI finish or reject. */
export function jingleReasonFor(reason: EndReason): JingleReason {
  return TO_JINGLE[reason];
}

/** Jingle reason condition (a child name of `<reason/>`) → core end reason; unknown ones are `failed`. */
export function endReasonFor(condition: string | undefined, answered: boolean): EndReason {
  if (condition === undefined) return answered ? 'hangup' : 'cancelled';
  const reason = FROM_JINGLE[condition] ?? 'failed';
  // Before answer, a caller's "success" (Conversations ends an unanswered outgoing call that way) is a cancel.
  return reason === 'hangup' && !answered ? 'cancelled' : reason;
}
