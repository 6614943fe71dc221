/** The "Online" card: web users online now (from presence); click fills the dial field, double-click or Enter calls. */

import type { SwitchboardClient } from '../client/index.js';
import { ui } from './page-elements.js';

/** Online users other than this one, sorted. */
export function onlineUsers(client: SwitchboardClient): string[] {
  return [...client.presence]
    .filter(([user, status]) => status === 'online' && user !== client.user)
    .map(([user]) => user)
    .sort((a, b) => a.localeCompare(b));
}

export function renderUsers(client: SwitchboardClient): void {
  const online = onlineUsers(client);
  ui.users.replaceChildren(
    ...online.map((user) => {
      const li = document.createElement('li');
      li.dataset.user = user;
      li.tabIndex = 0;
      li.title = `Click to dial web:${user}, double-click to call`;
      const dot = document.createElement('span');
      dot.className = 'dot';
      dot.setAttribute('aria-hidden', 'true');
      const name = document.createElement('span');
      name.className = 'user-name';
      name.textContent = user;
      li.append(dot, name);
      return li;
    }),
  );
  ui.usersCount.textContent = String(online.length);
  ui.usersEmpty.hidden = online.length > 0;
}

/** `pick`: put the address in the dial field; `call`: call it now. */
export function listenToUsers(actions: { pick(address: string): void; call(address: string): void }): void {
  const userOf = (event: Event) => (event.target as Element).closest<HTMLElement>('li[data-user]')?.dataset.user;
  ui.users.addEventListener('click', (event) => {
    const user = userOf(event);
    if (user) actions.pick(`web:${user}`);
  });
  ui.users.addEventListener('dblclick', (event) => {
    const user = userOf(event);
    if (user) actions.call(`web:${user}`);
  });
  ui.users.addEventListener('keydown', (event) => {
    const user = userOf(event);
    if (user && event.key === 'Enter') actions.call(`web:${user}`);
  });
}
