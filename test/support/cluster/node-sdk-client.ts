import { WebSocket } from 'ws';
import { SwitchboardClient } from '../../../src/client/switchboard-client.js';
import type { SwitchboardClientOptions } from '../../../src/client/client-options.js';

// The SDK is browser code; in Node 20 it needs the `ws` package as its WebSocket (same API surface:
// addEventListener, readyState, OPEN). Calls need RTCPeerConnection and stay in browser tests;
// login, reconnect, presence and chat work as they are.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

/** The browser SDK's client, run in Node against `url`. */
export function nodeSdkClient(url: string, options: Omit<SwitchboardClientOptions, 'url'> = {}): SwitchboardClient {
  return new SwitchboardClient({ url, ...options });
}
