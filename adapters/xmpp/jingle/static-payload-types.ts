/**
 * RFC 3551 section 6 static payload types. SDP may omit `a=rtpmap` for them (SIP peers often
 * do) and XEP-0167 section 4 makes `name` only RECOMMENDED for them.
 */
export const STATIC_PAYLOAD_TYPES: ReadonlyMap<number, { name: string; clockrate: number }> = new Map([
  [0, { name: 'PCMU', clockrate: 8000 }],
  [3, { name: 'GSM', clockrate: 8000 }],
  [4, { name: 'G723', clockrate: 8000 }],
  [8, { name: 'PCMA', clockrate: 8000 }],
  [9, { name: 'G722', clockrate: 8000 }],
  [13, { name: 'CN', clockrate: 8000 }],
  [18, { name: 'G729', clockrate: 8000 }],
]);
