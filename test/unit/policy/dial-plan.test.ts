import { describe, expect, it } from 'vitest';
import { parseAddress } from '../../../src/calls/address.js';
import { DialPlan } from '../../../src/policy/dial-plan.js';
import { audienceIncludes, type PartyIdentity } from '../../../src/policy/party-identity.js';

const staff: PartyIdentity = { kind: 'user', user: 'alice', groups: ['staff'] };
const plainUser: PartyIdentity = { kind: 'user', user: 'bob', groups: [] };
const guest: PartyIdentity = { kind: 'guest', user: 'guest-eve' };
const stranger: PartyIdentity = { kind: 'external', source: '198.51.100.7' };
const pbx: PartyIdentity = { kind: 'external', source: '10.0.0.5' };
const routed: PartyIdentity = { kind: 'routed', by: 'xmpp.inbound' };

const allowed = (plan: DialPlan, to: string, who: PartyIdentity, onBehalfOf: PartyIdentity[] = []) => plan.decide(parseAddress(to), who, onBehalfOf).allowed;

describe('DialPlan', () => {
  it('allows nothing on sip:, sips: and tel: without rules, and never polices web:, service: or xmpp:', () => {
    const plan = new DialPlan([]);
    for (const who of [staff, guest, stranger]) {
      expect(allowed(plan, 'tel:+15551234', who)).toBe(false);
      expect(allowed(plan, 'sip:bob@pbx.example.com', who)).toBe(false);
      expect(allowed(plan, 'sips:bob@pbx.example.com', who)).toBe(false);
      expect(allowed(plan, 'web:carol', who)).toBe(true);
      expect(allowed(plan, 'service:echo', who)).toBe(true);
      expect(allowed(plan, 'xmpp:dave@example.org', who)).toBe(true);
    }
  });

  it('matches the address as dialled, in canonical form, so an anchored pattern means what it says', () => {
    const plan = new DialPlan([{ match: '^tel:\\+1212555\\d{4}$' }, { match: '^sip:[^@]+@pbx\\.example\\.com$' }]);
    expect(allowed(plan, 'tel:+12125550100', staff)).toBe(true);
    expect(allowed(plan, 'tel:+121255501001', staff)).toBe(false);
    // URI parameters and an upper-case host do not change what was dialled.
    expect(allowed(plan, 'sip:bob@PBX.example.com;transport=tcp', staff)).toBe(true);
    expect(allowed(plan, 'sip:bob@pbx.example.com.attacker.net', staff)).toBe(false);
  });

  it('rules apply to token users unless narrowed, to guests only when asked, and to outside parties only by source', () => {
    const plan = new DialPlan([
      { match: '^tel:\\+1900', action: 'deny' },
      { match: '^tel:\\+1212', groups: ['staff'] },
      { match: '^tel:\\+1646', users: ['bob'] },
      { match: '^tel:\\+1800', guests: true },
      { match: '^sip:\\d+@pbx\\.example\\.com$', sources: ['10.0.0.0/24'] },
      { match: '^tel:' },
    ]);
    expect(allowed(plan, 'tel:+12125550100', staff)).toBe(true);
    expect(allowed(plan, 'tel:+16465550100', plainUser)).toBe(true);
    expect(allowed(plan, 'tel:+14155550100', plainUser)).toBe(true);
    expect(allowed(plan, 'tel:+14155550100', guest)).toBe(false);
    expect(allowed(plan, 'tel:+18005550100', guest)).toBe(true);
    expect(allowed(plan, 'tel:+19005550100', staff)).toBe(false);
    expect(allowed(plan, 'tel:+19005550100', guest)).toBe(false);
    expect(allowed(plan, 'sip:200@pbx.example.com', pbx)).toBe(true);
    expect(allowed(plan, 'sip:200@pbx.example.com', stranger)).toBe(false);
    expect(allowed(plan, 'tel:+18005550100', stranger)).toBe(false);
  });

  it('a call on someone’s behalf needs their permission too; an operator’s route needs none', () => {
    const plan = new DialPlan([{ match: '^tel:\\+1212' }]);
    expect(allowed(plan, 'tel:+12125550100', staff, [stranger])).toBe(false);
    expect(allowed(plan, 'tel:+12125550100', staff, [plainUser])).toBe(true);
    expect(allowed(plan, 'tel:+19005550100', routed)).toBe(true);
    expect(plan.decide(parseAddress('tel:+1555'), guest)).toEqual({ allowed: false, detail: 'no dial plan rule allows tel:+1555 for guest guest-eve' });
  });

  it('a bad pattern is an error naming the rule', () => {
    expect(() => new DialPlan([{ match: '(' }], 'sip.outbound.dialPlan')).toThrow('sip.outbound.dialPlan[0].match');
  });

  it('audienceIncludes: an empty audience is every token user and nobody else', () => {
    expect(audienceIncludes({}, plainUser)).toBe(true);
    expect(audienceIncludes({}, guest)).toBe(false);
    expect(audienceIncludes({}, stranger)).toBe(false);
    expect(audienceIncludes({ groups: ['staff'] }, plainUser)).toBe(false);
  });
});
