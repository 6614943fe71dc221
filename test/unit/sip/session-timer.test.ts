import { describe, expect, it } from 'vitest';
import { answerSessionTimer, parseSessionExpires, SessionTimerHeaders } from '../../../adapters/sip/session-timer.js';

const OK_INVITE = ['SIP/2.0 200 OK', 'Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK1', 'Call-ID: abc@host', 'CSeq: 2 INVITE', 'Content-Length: 0', '', ''].join('\r\n');

describe('session timers', () => {
  it('parses Session-Expires with and without a refresher', () => {
    expect(parseSessionExpires('1800;refresher=uac')).toEqual({ seconds: 1800, refresher: 'uac' });
    expect(parseSessionExpires(' 90 ; refresher=UAS')).toEqual({ seconds: 90, refresher: 'uas' });
    expect(parseSessionExpires('600')).toEqual({ seconds: 600, refresher: undefined });
    expect(parseSessionExpires('soon')).toBeUndefined();
    expect(parseSessionExpires(undefined)).toBeUndefined();
  });

  it('lets the caller refresh unless it asked the gateway to', () => {
    expect(answerSessionTimer({ seconds: 900, refresher: undefined })).toEqual({ seconds: 900, refresher: 'uac' });
    expect(answerSessionTimer({ seconds: 900, refresher: 'uas' })).toEqual({ seconds: 900, refresher: 'uas' });
  });

  it('adds the agreed headers to 2xx responses to INVITE of registered dialogs only', () => {
    const headers = new SessionTimerHeaders();
    expect(headers.apply(OK_INVITE)).toBe(OK_INVITE);
    headers.set('abc@host', { seconds: 90, refresher: 'uac' });
    const applied = headers.apply(OK_INVITE);
    expect(applied).toContain('\r\nSession-Expires: 90;refresher=uac\r\nRequire: timer\r\n\r\n');
    expect(headers.apply(applied)).toBe(applied); // once only
    expect(headers.apply(OK_INVITE.replace('CSeq: 2 INVITE', 'CSeq: 3 BYE'))).not.toContain('Session-Expires');
    expect(headers.apply(OK_INVITE.replace('200 OK', '486 Busy Here'))).not.toContain('Session-Expires');
    headers.delete('abc@host');
    expect(headers.apply(OK_INVITE)).toBe(OK_INVITE);
  });
});
