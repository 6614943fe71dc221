/** The "Recent calls" card: the last 50 calls, newest first; a click puts the address in the dial field. */

import type { Call } from '../client/index.js';
import { callDuration, displayName, formatDuration } from './call-display.js';
import { ui } from './page-elements.js';

const MAX_ENTRIES = 50;

export function addLogEntry(call: Call): void {
  const li = document.createElement('li');
  li.className = 'log-entry';
  li.dataset.direction = call.direction;
  li.dataset.reason = call.endReason ?? 'failed';
  li.dataset.remote = call.remote;
  li.title = `${call.createdAt.toLocaleString()}${call.endDetail ? ` — ${call.endDetail}` : ''}\nClick to dial again`;

  const remote = document.createElement('span');
  remote.className = 'log-remote';
  remote.textContent = displayName(call);
  const meta = document.createElement('span');
  meta.className = 'log-meta';
  const direction = document.createElement('span');
  direction.className = 'log-direction';
  direction.textContent = call.direction;
  const duration = document.createElement('span');
  duration.className = 'log-duration';
  duration.textContent = formatDuration(callDuration(call));
  const reason = document.createElement('span');
  reason.className = 'log-reason';
  reason.textContent = call.endReason ?? 'failed';
  meta.append(direction, ' · ', duration, ' · ', reason);
  const time = document.createElement('time');
  time.className = 'log-time';
  time.dateTime = call.createdAt.toISOString();
  time.textContent = call.createdAt.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

  li.append(remote, meta, time);
  ui.log.prepend(li);
  while (ui.log.children.length > MAX_ENTRIES) ui.log.lastElementChild?.remove();
  ui.logEmpty.hidden = true;
}

export function listenToLog(pick: (address: string) => void): void {
  ui.log.addEventListener('click', (event) => {
    const li = (event.target as Element).closest<HTMLElement>('li[data-remote]');
    if (li) pick(li.dataset.remote ?? '');
  });
}
