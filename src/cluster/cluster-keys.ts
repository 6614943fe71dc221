/**
 * Every key and channel the cluster uses in Redis, under `directory.redis.keyPrefix`. The Lua
 * scripts build the same names from the prefix (directory-scripts.ts), so they live in one place
 * each: here for TypeScript, at the top of each script for Lua.
 *
 *   <p>users                hash    user -> directory entry (JSON)
 *   <p>nodes                set     node ids that have written a heartbeat
 *   <p>node:<id>            string  the node's heartbeat (JSON: advertise, started), with a TTL
 *   <p>node:<id>:users      set     users the node holds, for reaping a lost node
 *   <p>lease:<name>         string  who holds a lease (the XMPP component), with a TTL
 *   <p>xmpp-subscribers:<d> set     presence subscriptions to the XMPP component <d>'s users
 *   <p>presence             channel users coming online and going offline
 *   <p>directory:<id>       channel sessions of node <id> replaced by a login elsewhere
 *   <p>bus:<id>             channel call and chat signaling for node <id>
 */
export class ClusterKeys {
  constructor(readonly prefix: string) {}

  get users(): string {
    return `${this.prefix}users`;
  }

  get nodes(): string {
    return `${this.prefix}nodes`;
  }

  node(id: string): string {
    return `${this.prefix}node:${id}`;
  }

  nodeUsers(id: string): string {
    return `${this.prefix}node:${id}:users`;
  }

  xmppSubscribers(domain: string): string {
    return `${this.prefix}xmpp-subscribers:${domain}`;
  }

  lease(name: string): string {
    return `${this.prefix}lease:${name}`;
  }

  get presenceChannel(): string {
    return `${this.prefix}presence`;
  }

  directoryChannel(id: string): string {
    return `${this.prefix}directory:${id}`;
  }

  busChannel(id: string): string {
    return `${this.prefix}bus:${id}`;
  }
}
