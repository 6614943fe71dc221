/**
 * What the gateway registered for this user, under "Logged in as": a SIP AOR at
 * a registrar (`sip:…`) or an XMPP identity (`xmpp:…`: the user's resource of the
 * service account, or their own JID with per-user login), each with its state.
 * XMPP chat and calls reach the user only while that identity is `registered`.
 */

import type { RegistrationMessage } from '../protocol/messages.js';
import { ui } from './page-elements.js';

const registrations = new Map<string, RegistrationMessage>();

function protocolOf(aor: string): string {
  if (aor.startsWith('xmpp:')) return 'XMPP';
  if (aor.startsWith('sip:') || aor.startsWith('sips:')) return 'SIP';
  return aor.split(':')[0] ?? '';
}

function render(): void {
  ui.registrations.replaceChildren(
    ...[...registrations.values()].map((registration) => {
      const li = document.createElement('li');
      li.dataset.aor = registration.aor;
      li.dataset.state = registration.state;
      const protocol = document.createElement('span');
      protocol.className = 'registration-protocol';
      protocol.textContent = protocolOf(registration.aor);
      const aor = document.createElement('span');
      aor.className = 'registration-aor';
      aor.textContent = registration.aor.replace(/^[a-z]+:/, '');
      const state = document.createElement('span');
      state.className = 'registration-state';
      const failure = [registration.code, registration.reason].filter((part) => part !== undefined && part !== '').join(' ');
      state.textContent = failure ? `${registration.state} (${failure})` : registration.state;
      li.append(protocol, aor, state);
      return li;
    }),
  );
  ui.registrations.hidden = registrations.size === 0;
}

export function showRegistration(registration: RegistrationMessage): void {
  registrations.set(registration.aor, registration);
  render();
}

/** Logged out: the gateway dropped every registration of the session. */
export function clearRegistrations(): void {
  registrations.clear();
  render();
}
