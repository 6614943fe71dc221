import type { Source } from './session-description.js';

/**
 * The media-level msid ("stream track") as far as sources tell it. Jingle can only carry msid as
 * an XEP-0339 source parameter, so Jingle imports (and SDP with only `a=ssrc:N msid:` lines) take
 * the content's msid from the first source that has one.
 */
export function firstSourceMsid(sources: Source[]): string | undefined {
  for (const source of sources) {
    const msid = source.parameters.find((p) => p.name === 'msid' && p.value !== undefined);
    if (msid?.value !== undefined) return msid.value;
  }
  return undefined;
}
