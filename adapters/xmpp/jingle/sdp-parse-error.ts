/** Why SDP text could not be read into a session description. */
export type SdpParseErrorCode =
  | 'invalid-candidate' // an a=candidate line that does not follow RFC 8839 section 5.1
  | 'missing-rtpmap' // a dynamic payload type without a=rtpmap (RFC 8866 section 6.6)
  | 'invalid-sdp'; // a line we need is malformed

/** SDP was malformed or unusable; thrown by the SDP import functions. */
export class SdpParseError extends Error {
  override readonly name = 'SdpParseError';

  constructor(
    readonly code: SdpParseErrorCode,
    message: string,
  ) {
    super(message);
  }
}
