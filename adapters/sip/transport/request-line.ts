/**
 * RFC 3261 section 7.1: `Request-Line = Method SP Request-URI SP SIP-Version
 * CRLF`, one SP each, no LWS inside the URI. peekSipMessage() takes only
 * that exact form; this tells what is wrong with a start line it refused,
 * so a request gets an answer instead of silence (RFC 4475 sections 3.1.2.7
 * to 3.1.2.10 and 3.1.2.16).
 */

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const VERSION_AT_END = /[ \t]SIP\/(\d+\.\d+)[ \t]*$/i;

export interface RequestLineProblem {
  readonly method: string;
  readonly status: 400 | 505;
  readonly reason: string;
  /** Text for the Warning header field. */
  readonly warning: string;
}

/** The problem of a start line that looks like a SIP request but is not a valid one; undefined for anything else. */
export function requestLineProblem(startLine: string): RequestLineProblem | undefined {
  const firstSpace = startLine.search(/[ \t]/);
  if (firstSpace <= 0) return undefined;
  const method = startLine.slice(0, firstSpace);
  const version = VERSION_AT_END.exec(startLine);
  if (!TOKEN.test(method) || !version) return undefined;
  if (version[1] !== '2.0') {
    // Section 21.5.6: the version the request was written in is not one this server speaks.
    return { method, status: 505, reason: 'Version Not Supported', warning: `SIP/${version[1]} is not supported; this server speaks SIP/2.0` };
  }
  return { method, status: 400, reason: 'Bad Request', warning: `Malformed Request-Line: ${detail(startLine, firstSpace, version.index)}` };
}

function detail(startLine: string, firstSpace: number, versionAt: number): string {
  if (/[ \t]$/.test(startLine)) return 'whitespace after the SIP-Version';
  const between = startLine.slice(firstSpace, versionAt + 1);
  if (!/^ [^ \t]/.test(between) || /[^ \t][ \t]{2,}$/.test(between) || /\t/.test(between)) return 'elements must be separated by exactly one SP';
  const uri = between.trim();
  if (/[ \t]/.test(uri)) return 'whitespace inside the Request-URI';
  if (uri.startsWith('<')) return 'the Request-URI must not be enclosed in <>';
  return 'the Request-URI is not an absolute URI';
}
