import { scanHeaders, splitOutsideQuotes } from './sip-header-fields.js';

/**
 * The ACK of a non-2xx final response to an INVITE, as the client
 * transaction builds it (RFC 3261 section 17.1.1.3): the INVITE's
 * Request-URI, its top Via only (the same branch), its Route set, From,
 * Call-ID and CSeq number, and the response's To (with the tag the server
 * added). The hub needs one when it takes a 503 for itself to try the next
 * server (RFC 3263 section 4.3): sip.js never sees that 503, so it sends no ACK.
 */
export function ackForRejectedInvite(invite: string, response: string): string | undefined {
  const request = scanHeaders(invite);
  const answer = scanHeaders(response);
  const requestUri = request?.startLine.split(' ')[1];
  if (!request || !answer || !requestUri) return undefined;
  const field = (fields: typeof request.fields, name: string) => fields.find((candidate) => candidate.name === name)?.value;
  const topVia = splitOutsideQuotes(field(request.fields, 'via') ?? '', ',')[0]?.trim();
  const from = field(request.fields, 'from');
  const callId = field(request.fields, 'call-id');
  const sequence = /^(\d+)\s/.exec(field(request.fields, 'cseq') ?? '')?.[1];
  const to = field(answer.fields, 'to');
  if (!topVia || !from || !callId || !sequence || !to) return undefined;
  const routes = request.fields.filter((candidate) => candidate.name === 'route').map((route) => `Route: ${route.value}`);
  return [
    `ACK ${requestUri} SIP/2.0`,
    `Via: ${topVia}`,
    ...routes,
    'Max-Forwards: 70',
    `From: ${from}`,
    `To: ${to}`,
    `Call-ID: ${callId}`,
    `CSeq: ${sequence} ACK`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}
