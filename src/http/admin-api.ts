import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Call } from '../calls/call.js';
import type { CallRegistry } from '../calls/call-registry.js';
import type { Directory } from '../directory/directory.js';
import { sendJson } from './http-server.js';

/** What the admin API can see and do; the gateway provides it. */
export interface AdminApiHost {
  token: () => string | undefined;
  calls: CallRegistry;
  directory: Directory;
  /** Re-reads the configuration; returns what changed. */
  reload: () => Promise<{ applied: string[]; restartRequired: string[] }>;
}

const CALL_PATH = /^\/admin\/calls\/([A-Za-z0-9_-]{1,64})$/;

/**
 * The operator's API under /admin/, behind a bearer token (`admin.token`):
 *   GET    /admin/calls        active calls
 *   GET    /admin/users        logged-in users
 *   DELETE /admin/calls/{id}   hang a call up
 *   POST   /admin/reload       re-read the configuration file and environment
 */
export function createAdminApi(host: AdminApiHost) {
  return async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const token = host.token();
    if (!token) return sendJson(response, 404, { error: 'the admin API is disabled (set admin.token)' });
    if (!authorized(request, token)) {
      response.setHeader('www-authenticate', 'Bearer realm="switchboard-admin"');
      return sendJson(response, 401, { error: 'missing or wrong bearer token' });
    }
    const path = (request.url ?? '').split('?', 1)[0]!;
    const method = request.method ?? 'GET';
    if (path === '/admin/calls' && method === 'GET') {
      return sendJson(response, 200, { calls: host.calls.list().map(describeCall) });
    }
    if (path === '/admin/users' && method === 'GET') {
      const users = await host.directory.list();
      return sendJson(response, 200, { users: users.map(({ user, nodeId, since }) => ({ user, nodeId, since: new Date(since).toISOString() })) });
    }
    if (path === '/admin/reload' && method === 'POST') {
      try {
        return sendJson(response, 200, await host.reload());
      } catch (error) {
        return sendJson(response, 400, { error: (error as Error).message });
      }
    }
    const callPath = CALL_PATH.exec(path);
    if (callPath && method === 'DELETE') {
      const call = host.calls.get(callPath[1]!);
      if (!call) return sendJson(response, 404, { error: `no call ${callPath[1]}` });
      call.hangup('hangup', 'ended by the operator');
      return sendJson(response, 200, { ended: call.id });
    }
    if (callPath && method === 'GET') {
      const call = host.calls.get(callPath[1]!);
      if (!call) return sendJson(response, 404, { error: `no call ${callPath[1]}` });
      return sendJson(response, 200, describeCall(call));
    }
    return sendJson(response, 404, { error: `no admin route ${method} ${path}` });
  };
}

function authorized(request: IncomingMessage, token: string): boolean {
  const header = request.headers.authorization ?? '';
  const given = Buffer.from(header.startsWith('Bearer ') ? header.slice(7) : '');
  const expected = Buffer.from(token);
  // Constant-time comparison: the token must not leak through response timing.
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function describeCall(call: Call) {
  const media = call.media as { stats?: () => unknown };
  return {
    id: call.id,
    type: call.type,
    state: call.state,
    caller: call.caller.address.uri,
    callee: call.callee.address.uri,
    media: call.media.mode,
    createdAt: new Date(call.createdAt).toISOString(),
    answeredAt: call.answeredAt ? new Date(call.answeredAt).toISOString() : undefined,
    mediaStats: typeof media.stats === 'function' ? media.stats() : undefined,
  };
}
