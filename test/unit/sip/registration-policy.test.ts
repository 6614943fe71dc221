import { describe, expect, it } from 'vitest';
import { SipRegistrationPolicy } from '../../../adapters/sip/registration-policy.js';

const alice = { kind: 'user', user: 'alice', groups: ['staff'] } as const;
const guest = { kind: 'guest', user: 'guest-eve' } as const;

describe('SipRegistrationPolicy', () => {
  const policy = new SipRegistrationPolicy([
    { domain: 'pbx.example.com' },
    { domain: '10.0.0.5:5080', registrar: 'sip:10.0.0.5:5080;transport=tcp', guests: true },
  ]);

  it('registers AORs of a listed domain at that domain’s registrar', () => {
    expect(policy.decide({ aor: 'sip:alice@pbx.example.com', password: 'x' }, alice)).toEqual({ allowed: true, registrar: 'sip:pbx.example.com' });
    expect(policy.decide({ aor: 'sip:eve@10.0.0.5:5080', password: 'x' }, guest)).toEqual({ allowed: true, registrar: 'sip:10.0.0.5:5080;transport=tcp' });
  });

  it('refuses other domains, other ports, guests where not listed, and a registrar the login picks', () => {
    expect(policy.decide({ aor: 'sip:alice@evil.example', password: 'x' }, alice).allowed).toBe(false);
    expect(policy.decide({ aor: 'sip:alice@pbx.example.com:5999', password: 'x' }, alice).allowed).toBe(false);
    expect(policy.decide({ aor: 'sip:eve@pbx.example.com', password: 'x' }, guest).allowed).toBe(false);
    expect(policy.decide({ aor: 'sip:alice@pbx.example.com', password: 'x', registrar: 'sip:198.51.100.7' }, alice)).toMatchObject({ allowed: false, detail: expect.stringMatching(/registrar/) });
    expect(policy.decide({ aor: 'tel:+15551234', password: 'x' }, alice).allowed).toBe(false);
    expect(policy.decide({ aor: 'not an address', password: 'x' }, alice).allowed).toBe(false);
  });

  it('accepts the configured registrar when the login repeats it', () => {
    expect(policy.decide({ aor: 'sip:eve@10.0.0.5:5080', password: 'x', registrar: 'SIP:10.0.0.5:5080;transport=TCP' }, guest).allowed).toBe(true);
  });
});
