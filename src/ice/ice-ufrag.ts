/**
 * The ICE username fragment of a description (`a=ice-ufrag`, RFC 8839 section 5.4), the first one
 * when m-sections repeat it. A party's new description with another one restarts ICE (RFC 8445
 * section 9, RFC 9429 section 5.2.1).
 */
export function iceUfragOf(sdp: string): string | undefined {
  return /^a=ice-ufrag:(\S+)/m.exec(sdp)?.[1];
}

/** Whether `next` restarts the ICE that `previous` (the same party's last description) set up. */
export function restartsIce(previous: string | undefined, next: string): boolean {
  const ufrag = iceUfragOf(next);
  return previous !== undefined && ufrag !== undefined && ufrag !== previous;
}
