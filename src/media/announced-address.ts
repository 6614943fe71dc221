/**
 * Writes the announced (public) address into the gateway's own WebRTC SDP,
 * as Janus's 1:1 NAT mapping does: behind NAT (a container, a cloud VM) the
 * addresses the ICE agent finds on its interfaces are not the ones parties
 * can reach. Host candidates of the announced address's family take that
 * address (keeping their ports, which a 1:1 NAT or published range keeps
 * too), duplicates left by the rewrite are dropped, and c= lines follow.
 */
export function announceAddress(sdp: string, announced: string): string {
  const family = announced.includes(':') ? 6 : 4;
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (line.length === 0) continue;
    const candidate = /^(a=candidate:\S+ (\d+) (\S+) \d+ )(\S+) (\d+)( typ host.*)$/.exec(line);
    if (candidate && addressFamily(candidate[4]!) === family) {
      const rewritten = `${candidate[1]}${announced} ${candidate[5]}${candidate[6]}`;
      // Component, transport and port: what is left to tell two candidates apart once they share the address.
      const key = `${candidate[2]} ${candidate[3]!.toLowerCase()} ${candidate[5]}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(rewritten);
      continue;
    }
    const connection = /^c=IN IP([46]) (\S+)$/.exec(line);
    if (connection && Number(connection[1]) === family && connection[2] !== '0.0.0.0') {
      out.push(`c=IN IP${family} ${announced}`);
      continue;
    }
    out.push(line);
  }
  return `${out.join('\r\n')}\r\n`;
}

function addressFamily(address: string): 4 | 6 | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(address)) return 4;
  if (address.includes(':')) return 6;
  return undefined; // mDNS names and the like are left alone
}
