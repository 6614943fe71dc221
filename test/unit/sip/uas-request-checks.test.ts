import { Core } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { addressToGatewayUser, REQUEST_USER_HEADER } from '../../../adapters/sip/request-user-rewrite.js';
import { withContactFromFrom } from '../../../adapters/sip/rfc2543-contact.js';
import { acceptRefusal, requestUriSchemeRefusal, requireRefusal } from '../../../adapters/sip/uas-request-checks.js';

const logger = new Core.LoggerFactory().getLogger('test');

function text(method: string, extra: string[] = [], requestUri = 'sip:alice@192.0.2.10', to = '<sip:alice@192.0.2.10>'): string {
  return [
    `${method} ${requestUri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-uas',
    'Max-Forwards: 70',
    `To: ${to}`,
    'From: "Caller" <sip:caller@192.0.2.1>;tag=c1',
    'Call-ID: uas-1',
    `CSeq: 1 ${method}`,
    'Contact: <sip:caller@192.0.2.1>',
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

function parsed(method: string, extra: string[] = []): Core.IncomingRequestMessage {
  const message = Core.Parser.parseMessage(text(method, extra), logger);
  if (!(message instanceof Core.IncomingRequestMessage)) throw new Error('sip.js could not parse the fixture');
  return message;
}

describe('requestUriSchemeRefusal (RFC 3261 section 8.2.2.1)', () => {
  it('416 for schemes other than sip and sips', () => {
    for (const uri of ['tel:+15551234567', 'nobodyKnowsThisScheme:totallyopaquecontent', 'soap.beep://192.0.2.103:3002']) {
      expect(requestUriSchemeRefusal(text('OPTIONS', [], uri))?.statusCode).toBe(416);
    }
    expect(requestUriSchemeRefusal(text('OPTIONS'))).toBeUndefined();
    expect(requestUriSchemeRefusal(text('OPTIONS', [], 'SIP:alice@h'))).toBeUndefined();
  });
});

describe('requireRefusal (RFC 3261 section 8.2.2.3)', () => {
  it('lists every option tag but timer, over several Require fields', () => {
    const refusal = requireRefusal(parsed('INVITE', ['Require: timer, 100rel', 'Require: replaces, 100rel']));
    expect(refusal).toMatchObject({ statusCode: 420, extraHeaders: ['Unsupported: 100rel, replaces'] });
    expect(requireRefusal(parsed('OPTIONS', ['Require: Timer']))).toBeUndefined();
    expect(requireRefusal(parsed('OPTIONS'))).toBeUndefined();
  });

  it('ignores Require on ACK and CANCEL, and Proxy-Require everywhere', () => {
    expect(requireRefusal(parsed('ACK', ['Require: foo']))).toBeUndefined();
    expect(requireRefusal(parsed('CANCEL', ['Require: foo']))).toBeUndefined();
    expect(requireRefusal(parsed('OPTIONS', ['Proxy-Require: foo']))).toBeUndefined();
  });
});

describe('acceptRefusal (RFC 3261 sections 8.2.3, 21.4.7)', () => {
  it('406 for an INVITE whose Accept leaves out application/sdp', () => {
    expect(acceptRefusal(parsed('INVITE', ['Accept: text/nobodyKnowsThis']))).toMatchObject({ statusCode: 406 });
    expect(acceptRefusal(parsed('INVITE', ['Accept: text/plain, application/SDP;level=1']))).toBeUndefined();
    expect(acceptRefusal(parsed('INVITE', ['Accept: application/*']))).toBeUndefined();
    expect(acceptRefusal(parsed('INVITE'))).toBeUndefined();
    expect(acceptRefusal(parsed('OPTIONS', ['Accept: text/nobodyKnowsThis']))).toBeUndefined();
  });
});

describe('addressToGatewayUser', () => {
  it('re-addresses requests inside a dialog too, so sip.js answers an unknown one with 481 rather than 404', () => {
    const bye = addressToGatewayUser(text('BYE', [], 'sip:alice@192.0.2.10', '<sip:alice@192.0.2.10>;tag=t1'), 'switchboard');
    expect(bye).toMatch(/^BYE sip:switchboard@192\.0\.2\.10 SIP\/2\.0\r\n/);
    expect(bye).toContain(`${REQUEST_USER_HEADER}: alice\r\n`);
  });

  it('addresses an OPTIONS to the server itself (no user: a dispatcher\'s health probe) to the gateway user, and nothing else without a user', () => {
    expect(addressToGatewayUser(text('OPTIONS', [], 'sip:192.0.2.10:5070'), 'switchboard')).toMatch(/^OPTIONS sip:switchboard@192\.0\.2\.10:5070 SIP\/2\.0\r\nVia:/);
    const invite = text('INVITE', [], 'sip:192.0.2.10');
    expect(addressToGatewayUser(invite, 'switchboard')).toBe(invite);
  });

  it('takes a user part with ";" (RFC 4475 section 3.1.1.9)', () => {
    const rewritten = addressToGatewayUser(text('OPTIONS', [], 'sip:user;par=u%40example.net@example.com'), 'switchboard');
    expect(rewritten).toMatch(/^OPTIONS sip:switchboard@example\.com SIP\/2\.0\r\n/);
    expect(rewritten).toContain(`${REQUEST_USER_HEADER}: user;par=u%40example.net\r\n`);
  });
});

describe('withContactFromFrom (RFC 4475 section 3.4.1)', () => {
  it('gives an INVITE without Contact its From URI as Contact, and leaves everything else alone', () => {
    const legacy = text('INVITE').replace('Contact: <sip:caller@192.0.2.1>\r\n', '').replace('From: "Caller" <sip:caller@192.0.2.1>;tag=c1', 'From: <sip:+13035551111@ift.example.net;user=phone>');
    expect(withContactFromFrom(legacy)).toContain('\r\nContact: <sip:+13035551111@ift.example.net;user=phone>\r\n');
    expect(withContactFromFrom(text('INVITE'))).toBe(text('INVITE'));
    const options = text('OPTIONS').replace('Contact: <sip:caller@192.0.2.1>\r\n', '');
    expect(withContactFromFrom(options)).toBe(options);
  });
});
