/**
 * The directory's Lua scripts. Redis runs a script atomically, so "may this login take the
 * name?" and "take it" are one step on every node at once: two logins on two nodes cannot both
 * win, and a guest cannot slip in between a check and a write (the rule of `mayReplace`).
 * Keys are built from the prefix (ARGV[1]) as in cluster-keys.ts, so the scripts run on one
 * Redis (or a Sentinel-managed primary), not on Redis Cluster.
 */

const PRELUDE = `
local p = ARGV[1]
local function alive(node) return redis.call('EXISTS', p .. 'node:' .. node) == 1 end
local function presence(user, status, by)
  redis.call('PUBLISH', p .. 'presence', cjson.encode({ user = user, status = status, node = by }))
end
`;

/**
 * ARGV: prefix, user, entry JSON, session id, node id, guest ('1'/'0').
 * Returns { 1 } (new), { 2, holder } (replaced holder), { 0, holder } (refused: a guest and a live holder).
 * A holder whose node is lost (no heartbeat) holds nothing: anyone may take the name.
 */
export const REGISTER = `${PRELUDE}
local user, entry, session, node, guest = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local current = redis.call('HGET', p .. 'users', user)
if current then
  local holder = cjson.decode(current)
  if holder.sessionId ~= session then
    local live = alive(holder.nodeId)
    if live and guest == '1' then return { 0, current } end
    redis.call('SREM', p .. 'node:' .. holder.nodeId .. ':users', user)
    if live and holder.nodeId ~= node then
      redis.call('PUBLISH', p .. 'directory:' .. holder.nodeId, cjson.encode({ user = user, sessionId = holder.sessionId }))
    end
  end
end
redis.call('HSET', p .. 'users', user, entry)
redis.call('SADD', p .. 'node:' .. node .. ':users', user)
if not current then
  presence(user, 'online', node)
  return { 1 }
end
return { 2, current }
`;

/** ARGV: prefix, user, session id, node id (of the caller). Returns 1 when the session was the user's and is gone. */
export const UNREGISTER = `${PRELUDE}
local user, session, by = ARGV[2], ARGV[3], ARGV[4]
local current = redis.call('HGET', p .. 'users', user)
if not current then return 0 end
local holder = cjson.decode(current)
if holder.sessionId ~= session then return 0 end
redis.call('HDEL', p .. 'users', user)
redis.call('SREM', p .. 'node:' .. holder.nodeId .. ':users', user)
presence(user, 'offline', by)
return 1
`;

/** ARGV: prefix, user. The entry, unless its node is lost. */
export const LOOKUP = `${PRELUDE}
local current = redis.call('HGET', p .. 'users', ARGV[2])
if not current then return false end
if not alive(cjson.decode(current).nodeId) then return false end
return current
`;

/** Removes a lost node's users (announcing each offline, by ARGV 'by') and the node itself. */
const REAP_NODE = `
local function reap(node, by)
  local gone = {}
  for _, user in ipairs(redis.call('SMEMBERS', p .. 'node:' .. node .. ':users')) do
    local current = redis.call('HGET', p .. 'users', user)
    if current and cjson.decode(current).nodeId == node then
      redis.call('HDEL', p .. 'users', user)
      presence(user, 'offline', by)
      gone[#gone + 1] = user
    end
  end
  redis.call('DEL', p .. 'node:' .. node .. ':users')
  redis.call('SREM', p .. 'nodes', node)
  return gone
end
`;

/**
 * ARGV: prefix, node id of the caller. Reaps every node whose heartbeat expired.
 * Returns { alive node ids, their heartbeats (JSON), lost node ids }: only the first caller
 * after a loss reaps; every caller sees which nodes are alive, and since when (a node restarted
 * under the same id is another node for the calls the old one had).
 */
export const REAP_LOST = `${PRELUDE}${REAP_NODE}
local live, beats, lost = {}, {}, {}
for _, node in ipairs(redis.call('SMEMBERS', p .. 'nodes')) do
  local beat = redis.call('GET', p .. 'node:' .. node)
  if beat then
    live[#live + 1] = node
    beats[#beats + 1] = beat
  else
    reap(node, ARGV[2])
    lost[#lost + 1] = node
  end
end
return { live, beats, lost }
`;

/** ARGV: prefix, node id. A node leaving on purpose (shutdown): its users go offline at once. */
export const LEAVE = `${PRELUDE}${REAP_NODE}
reap(ARGV[2], ARGV[2])
redis.call('DEL', p .. 'node:' .. ARGV[2])
return 1
`;

/**
 * After the node's connection came back (Redis restarted empty, or the node was cut off and
 * reaped). ARGV: prefix, node id, then the node's own entries as JSON. Each one is written
 * again unless a live node's session took the name meanwhile (then the local session must go:
 * returned); users the directory lists for this node that it no longer holds are removed.
 */
export const RESYNC = `${PRELUDE}
local node = ARGV[2]
local mine, lost = {}, {}
for i = 3, #ARGV do
  local entry = cjson.decode(ARGV[i])
  mine[entry.user] = true
  local current = redis.call('HGET', p .. 'users', entry.user)
  local holder = current and cjson.decode(current)
  if holder and holder.sessionId ~= entry.sessionId and alive(holder.nodeId) and holder.nodeId ~= node then
    lost[#lost + 1] = entry.user
  else
    redis.call('HSET', p .. 'users', entry.user, ARGV[i])
    redis.call('SADD', p .. 'node:' .. node .. ':users', entry.user)
    if not holder then presence(entry.user, 'online', node) end
  end
end
for _, user in ipairs(redis.call('SMEMBERS', p .. 'node:' .. node .. ':users')) do
  if not mine[user] then
    redis.call('SREM', p .. 'node:' .. node .. ':users', user)
    local current = redis.call('HGET', p .. 'users', user)
    if current and cjson.decode(current).nodeId == node then
      redis.call('HDEL', p .. 'users', user)
      presence(user, 'offline', node)
    end
  end
end
return lost
`;
