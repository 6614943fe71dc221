/** How the page writes calls and addresses for people. Pure functions. */

import type { Call, CallState } from '../client/index.js';

const LIVE_MEDIA_STATES: ReadonlySet<CallState> = new Set(['connecting', 'active']);

/** Answered and not ended: media flows (or is about to), so DTMF and hold make sense. */
export function hasLiveMedia(call: Call): boolean {
  return LIVE_MEDIA_STATES.has(call.state);
}

export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, '0');
  return hours > 0 ? `${hours}:${String(minutes).padStart(2, '0')}:${seconds}` : `${minutes}:${seconds}`;
}

/** From media up (or answer) to the end, or to now while the call lasts. */
export function callDuration(call: Call): number {
  const start = call.connectedAt ?? call.answeredAt;
  if (!start) return 0;
  return (call.endedAt ?? new Date()).getTime() - start.getTime();
}

export function displayName(call: Call): string {
  return call.remoteName ? `${call.remoteName} (${call.remote})` : call.remote;
}

/** `bob` means `web:bob`; numbers (the gateway makes them `tel:`) and addresses with a scheme are left alone. */
export function normalizeAddress(input: string): string {
  const value = input.trim();
  return value.includes(':') || /^\+?[0-9*#]+$/.test(value) ? value : `web:${value}`;
}
