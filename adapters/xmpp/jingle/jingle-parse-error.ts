/** Why a Jingle element could not be read into a session description. */
export type JingleParseErrorCode =
  | 'not-jingle' // the element is not <jingle xmlns='urn:xmpp:jingle:1'>
  | 'missing-content' // session-initiate/accept without any <content/>
  | 'missing-attribute' // an attribute the XEP marks REQUIRED is absent
  | 'invalid-attribute' // malformed number, unknown enum value, whitespace where SDP needs a token
  | 'missing-description' // a content without <description/> (XEP-0166 section 7.1)
  | 'unsupported-application' // <description/> is not XEP-0167 RTP audio/video
  | 'missing-transport' // a content without <transport/>
  | 'unsupported-transport'; // <transport/> is not XEP-0176 ICE-UDP

/** XEP-0166 section 7.4 `<reason/>` conditions a session-terminate for a parse error should carry. */
export type JingleParseErrorReason = 'failed-application' | 'unsupported-applications' | 'unsupported-transports' | 'failed-transport';

const REASONS: Record<JingleParseErrorCode, JingleParseErrorReason> = {
  'not-jingle': 'failed-application',
  'missing-content': 'failed-application',
  'missing-attribute': 'failed-application',
  'invalid-attribute': 'failed-application',
  'missing-description': 'failed-application',
  'unsupported-application': 'unsupported-applications',
  'missing-transport': 'failed-transport',
  'unsupported-transport': 'unsupported-transports',
};

/**
 * A Jingle element was malformed or unusable. Thrown by the Jingle import functions instead of
 * crashing on a missing attribute; answer the IQ with `bad-request` and, for a session-initiate,
 * terminate with `reason` (Conversations does the same, JINGLE.md section 3.1).
 */
export class JingleParseError extends Error {
  override readonly name = 'JingleParseError';
  /** The session-terminate reason matching `code`. */
  readonly reason: JingleParseErrorReason;

  constructor(
    readonly code: JingleParseErrorCode,
    message: string,
    /** The element (and attribute) at fault, for logs. */
    readonly element?: string,
    readonly attribute?: string,
  ) {
    super(message);
    this.reason = REASONS[code];
  }
}
