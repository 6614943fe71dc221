import type { Redis } from 'ioredis';
import { LEAVE, LOOKUP, REAP_LOST, REGISTER, RESYNC, UNREGISTER } from './directory-scripts.js';

type Script = (...args: string[]) => Promise<unknown>;

/**
 * The directory's Lua scripts, defined once on a connection with ioredis's `defineCommand`
 * (EVALSHA, falling back to EVAL when Redis does not have the script yet, such as after a
 * restart), and called with the key prefix first.
 */
export class ClusterScripts {
  readonly register: Script;
  readonly unregister: Script;
  readonly lookup: Script;
  readonly reapLost: Script;
  readonly leave: Script;
  readonly resync: Script;

  constructor(redis: Redis, prefix: string) {
    const define = (name: string, lua: string): Script => {
      redis.defineCommand(name, { numberOfKeys: 0, lua });
      const command = (redis as unknown as Record<string, (...args: string[]) => Promise<unknown>>)[name]!.bind(redis);
      return (...args) => command(prefix, ...args);
    };
    this.register = define('switchboardRegister', REGISTER);
    this.unregister = define('switchboardUnregister', UNREGISTER);
    this.lookup = define('switchboardLookup', LOOKUP);
    this.reapLost = define('switchboardReapLost', REAP_LOST);
    this.leave = define('switchboardLeave', LEAVE);
    this.resync = define('switchboardResync', RESYNC);
  }
}
