import { randomBytes } from 'node:crypto';
import { findParam, scanHeaders, splitNameAddr } from './sip-header-fields.js';
import { formatHost } from './sip-via.js';

export interface StatelessResponseOptions {
  readonly status: number;
  readonly reason: string;
  /** RFC 3261 section 20.43: `Warning: 399 <agent> "<text>"` (399: miscellaneous warning). */
  readonly warning?: { readonly agent: string; readonly text: string };
  /** Further header fields, whole lines without CRLF (`Allow: ...`, `Unsupported: ...`). */
  readonly extraHeaders?: readonly string[];
}

/** Quoted-string content: backslash and double quote escaped (RFC 3261 section 25.1). */
function quoted(text: string): string {
  return `"${text.replace(/[\\"]/g, (char) => `\\${char}`).replace(/[\r\n]+/g, ' ')}"`;
}

/**
 * A response the transport layer sends without any transaction (RFC 3261
 * section 8.2.6 and 8.2.7): Via (all values, in order), From, To, Call-ID
 * and CSeq copied from the request, whichever of them it has, and a To tag
 * added when the request had none (8.2.6.2). `request` is the text after
 * received/rport were added, so the response finds its way back (18.2.2).
 */
export function buildStatelessResponse(request: string, options: StatelessResponseOptions): string {
  const scanned = scanHeaders(request);
  const lines = [`SIP/2.0 ${options.status} ${options.reason}`];
  for (const field of scanned?.fields ?? []) {
    if (field.name === 'via' || field.name === 'from' || field.name === 'call-id' || field.name === 'cseq') {
      lines.push(`${canonical(field.name)}: ${field.value}`);
    } else if (field.name === 'to') {
      const nameAddr = splitNameAddr(field.value);
      const hasTag = nameAddr !== undefined && findParam(nameAddr.params, 'tag') !== undefined;
      const tag = hasTag || options.status === 100 ? '' : `;tag=${randomBytes(6).toString('hex')}`;
      lines.push(`To: ${field.value}${tag}`);
    }
  }
  lines.push(...(options.extraHeaders ?? []));
  if (options.warning) lines.push(`Warning: 399 ${formatHost(options.warning.agent)} ${quoted(options.warning.text)}`);
  lines.push('Content-Length: 0');
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function canonical(name: string): string {
  return name === 'call-id' ? 'Call-ID' : name === 'cseq' ? 'CSeq' : name.charAt(0).toUpperCase() + name.slice(1);
}
