// @xmpp/component 0.13 ships no type declarations; XmppComponentConnection types what it uses.
declare module '@xmpp/component' {
  export function component(options: { service: string; domain: string; password: string }): unknown;
}
