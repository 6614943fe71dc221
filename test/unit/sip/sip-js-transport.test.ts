import { TransportState } from 'sip.js';
import { describe, expect, it } from 'vitest';
import { SipJsTransport, transportConstructorFor, type SipJsTransportLink } from '../../../adapters/sip/transport/sip-js-transport.js';

function link(): SipJsTransportLink & { sent: string[]; released: SipJsTransport[]; closed: boolean } {
  const state = {
    closed: false,
    sent: [] as string[],
    released: [] as SipJsTransport[],
    send: async (_transport: SipJsTransport, message: string) => {
      state.sent.push(message);
    },
    release: (transport: SipJsTransport) => {
      state.released.push(transport);
    },
  };
  return state;
}

describe('SipJsTransport (the sip.js Transport contract)', () => {
  it('starts Disconnected, goes Connecting then Connected, and calls onConnect once', async () => {
    const transport = new SipJsTransport('ua', link());
    const states: TransportState[] = [];
    transport.stateChange.addListener((state) => states.push(state));
    let connects = 0;
    transport.onConnect = () => connects++;
    expect(transport.state).toBe(TransportState.Disconnected);
    const connecting = transport.connect();
    // connect() MUST have left Disconnected before returning.
    expect(transport.state).toBe(TransportState.Connecting);
    await Promise.all([connecting, transport.connect()]);
    expect(transport.isConnected()).toBe(true);
    expect(states).toEqual([TransportState.Connecting, TransportState.Connected]);
    expect(connects).toBe(1);
  });

  it('rejects send() unless Connected, and passes messages to the hub when it is', async () => {
    const hub = link();
    const transport = new SipJsTransport('ua', hub);
    await expect(transport.send('OPTIONS sip:a@b SIP/2.0\r\n\r\n')).rejects.toMatchObject({ code: 'disconnected' });
    await transport.connect();
    await transport.send('hello');
    expect(hub.sent).toEqual(['hello']);
    expect(transport.counters.messagesOut).toBe(1);
  });

  it('delivers incoming messages only while Connected', async () => {
    const transport = new SipJsTransport('ua', link());
    const got: string[] = [];
    transport.onMessage = (message) => got.push(message);
    expect(transport.receive('early')).toBe(false);
    await transport.connect();
    expect(transport.receive('on time')).toBe(true);
    expect(got).toEqual(['on time']);
  });

  it('calls onDisconnect without an error when asked to disconnect, with one when the hub closes', async () => {
    const transport = new SipJsTransport('ua', link());
    const errors: (Error | undefined)[] = [];
    transport.onDisconnect = (error) => errors.push(error);
    await transport.connect();
    await transport.disconnect();
    expect(transport.state).toBe(TransportState.Disconnected);
    await transport.connect();
    transport.hubClosed();
    expect(errors).toHaveLength(2);
    expect(errors[0]).toBeUndefined();
    expect(errors[1]).toMatchObject({ code: 'closed' });
  });

  it('refuses to connect once disposed or when the hub is closed, and releases itself on dispose', async () => {
    const hub = link();
    const transport = new SipJsTransport('ua', hub);
    await transport.connect();
    await transport.dispose();
    expect(hub.released).toEqual([transport]);
    await expect(transport.connect()).rejects.toMatchObject({ code: 'closed' });
    const other = new SipJsTransport('other', { ...link(), closed: true });
    await expect(other.connect()).rejects.toMatchObject({ code: 'closed' });
    expect(other.state).toBe(TransportState.Disconnected);
  });

  it('gives sip.js a constructor that yields the prepared instance', () => {
    const transport = new SipJsTransport('ua', link());
    const Constructor = transportConstructorFor(transport);
    expect(new Constructor(undefined as never, {})).toBe(transport);
  });
});
