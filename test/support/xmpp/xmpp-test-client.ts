import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/xml';

const NS_JINGLE = 'urn:xmpp:jingle:1';

/**
 * An XMPP client for tests (@xmpp/client), playing the Conversations side of a call: it acks
 * every Jingle IQ set it gets and keeps them, keeps every message, and waits for either.
 */
export class XmppTestClient {
  readonly messages: Element[] = [];
  readonly presences: Element[] = [];
  readonly jingles: Element[] = [];
  readonly #waiters: { match: () => boolean; wake: () => void }[] = [];

  private constructor(readonly xmpp: Client) {
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('message')) this.#push(this.messages, stanza);
      else if (stanza.is('presence')) this.#push(this.presences, stanza);
    });
    xmpp.iqCallee.set(NS_JINGLE, 'jingle', (ctx: { element: Element }) => {
      this.#push(this.jingles, ctx.element);
      return true;
    });
  }

  static async login(service: string, domain: string, username: string, password: string, resource = 'phone'): Promise<XmppTestClient> {
    const xmpp = client({ service, domain, username, password, resource });
    xmpp.on('error', () => {});
    const test = new XmppTestClient(xmpp);
    await xmpp.start();
    await xmpp.send(xml('presence'));
    return test;
  }

  get jid(): string {
    return this.xmpp.jid!.toString();
  }

  send(stanza: Element): Promise<void> {
    return this.xmpp.send(stanza);
  }

  request(iq: Element): Promise<Element> {
    return this.xmpp.iqCaller.request(iq, 10_000);
  }

  /** A message with a child `name` in `ns` (already received or future). */
  message(name: string, ns: string, timeoutMs = 10_000): Promise<Element> {
    return this.#wait(this.messages, (m) => m.getChild(name, ns) !== undefined, timeoutMs, `message <${name}/>`);
  }

  /** A message matching `where` (already received or future). */
  messageWhere(where: (message: Element) => boolean, what: string, timeoutMs = 10_000): Promise<Element> {
    return this.#wait(this.messages, where, timeoutMs, what);
  }

  /** A presence stanza matching `where` (already received or future). */
  presence(where: (presence: Element) => boolean, timeoutMs = 10_000): Promise<Element> {
    return this.#wait(this.presences, where, timeoutMs, 'presence');
  }

  /** XEP-0280: copies of what this account's other resources send and receive come here too. */
  async enableCarbons(): Promise<void> {
    await this.request(xml('iq', { type: 'set' }, xml('enable', { xmlns: 'urn:xmpp:carbons:2' })));
  }

  /** A received `<jingle/>` with `action`. */
  jingle(action: string, timeoutMs = 10_000): Promise<Element> {
    return this.#wait(this.jingles, (j) => j.attrs.action === action, timeoutMs, `jingle ${action}`);
  }

  async stop(): Promise<void> {
    await this.xmpp.stop().catch(() => {});
  }

  #push(list: Element[], el: Element): void {
    list.push(el);
    for (const waiter of [...this.#waiters]) if (waiter.match()) waiter.wake();
  }

  #wait(list: Element[], match: (el: Element) => boolean, timeoutMs: number, what: string): Promise<Element> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const index = list.findIndex(match);
        if (index < 0) return false;
        resolve(list.splice(index, 1)[0]!);
        return true;
      };
      if (check()) return;
      const waiter = {
        match: check,
        wake: () => {
          clearTimeout(timer);
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; got ${list.map(String).join('\n')}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }
}
