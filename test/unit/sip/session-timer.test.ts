import { describe, expect, it } from 'vitest';
import { expiryMs } from '../../../adapters/sip/session-expiry-clock.js';
import {
  answerRefresh,
  answerSessionTimer,
  listsTimer,
  parseSessionExpires,
  SessionTimerHeaders,
  timerFromOwnRequestResponse,
} from '../../../adapters/sip/session-timer.js';

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
    expect(answerSessionTimer({ seconds: 900, refresher: undefined })).toEqual({ seconds: 900, refresher: 'peer' });
    expect(answerSessionTimer({ seconds: 900, refresher: 'uas' })).toEqual({ seconds: 900, refresher: 'gateway' });
  });

  it('adds the agreed headers to 2xx responses to INVITE of registered dialogs only', () => {
    const headers = new SessionTimerHeaders();
    expect(headers.apply(OK_INVITE)).toBe(OK_INVITE);
    headers.set('abc@host', { seconds: 90, refresher: 'peer' });
    const applied = headers.apply(OK_INVITE);
    expect(applied).toContain('\r\nSession-Expires: 90;refresher=uac\r\nRequire: timer\r\n\r\n');
    expect(headers.apply(applied)).toBe(applied); // once only
    expect(headers.apply(OK_INVITE.replace('CSeq: 2 INVITE', 'CSeq: 3 BYE'))).not.toContain('Session-Expires');
    expect(headers.apply(OK_INVITE.replace('200 OK', '486 Busy Here'))).not.toContain('Session-Expires');
    headers.delete('abc@host');
    expect(headers.apply(OK_INVITE)).toBe(OK_INVITE);
  });

  it.each([
    // [what the peer's refresh asks, timer in force, supports timer] -> agreed timer, 2xx headers
    [{ seconds: 600, refresher: 'uac' }, undefined, true, { seconds: 600, refresher: 'peer' }, ['Session-Expires: 600;refresher=uac', 'Require: timer']],
    [{ seconds: 600, refresher: 'uas' }, undefined, true, { seconds: 600, refresher: 'gateway' }, ['Session-Expires: 600;refresher=uas', 'Require: timer']],
    [{ seconds: 600, refresher: undefined }, { seconds: 90, refresher: 'gateway' }, true, { seconds: 600, refresher: 'gateway' }, ['Session-Expires: 600;refresher=uas', 'Require: timer']],
    [undefined, { seconds: 90, refresher: 'peer' }, true, { seconds: 90, refresher: 'peer' }, ['Session-Expires: 90;refresher=uac', 'Require: timer']],
    [undefined, { seconds: 90, refresher: 'peer' }, false, { seconds: 90, refresher: 'gateway' }, ['Session-Expires: 90;refresher=uas']],
    [undefined, undefined, true, undefined, []],
  ] as const)('answers a refresh asking %j with %j in force (Supported: timer %s)', (asked, current, supportsTimer, timer, headers) => {
    expect(answerRefresh({ sessionExpires: asked, supportsTimer }, current, 90)).toEqual({ kind: 'agreed', timer, headers });
  });

  it('refuses a refresh below the minimum with 422 material', () => {
    expect(answerRefresh({ sessionExpires: { seconds: 30, refresher: 'uac' }, supportsTimer: true }, undefined, 90)).toEqual({ kind: 'too-small', minSeconds: 90 });
  });

  it('takes interval and refresher from the 2xx to its own request (the gateway as UAC)', () => {
    expect(timerFromOwnRequestResponse({ seconds: 90, refresher: 'uac' })).toEqual({ seconds: 90, refresher: 'gateway' });
    expect(timerFromOwnRequestResponse({ seconds: 90, refresher: 'uas' })).toEqual({ seconds: 90, refresher: 'peer' });
    expect(timerFromOwnRequestResponse({ seconds: 90, refresher: undefined })).toEqual({ seconds: 90, refresher: 'gateway' });
    expect(timerFromOwnRequestResponse(undefined)).toBeUndefined();
  });

  it('finds the timer option tag and computes the expiry (RFC 4028 section 10)', () => {
    expect(listsTimer('100rel, Timer,replaces')).toBe(true);
    expect(listsTimer('timers')).toBe(false);
    expect(listsTimer(undefined)).toBe(false);
    expect(expiryMs(90)).toBe(60_000);
    expect(expiryMs(1800)).toBe(1_768_000);
  });
});
