/**
 * A real DNS server for tests: Debian's dnsmasq on 127.0.0.1 and a free port, answering only
 * from the records the test gives it (NAPTR, SRV, A/AAAA), authoritative-like for its zones
 * (`local=`: names it does not hold are NXDOMAIN, never forwarded), no upstream, no
 * /etc/hosts, stopped by its PID. The gateway is pointed at it with `sip.dns.servers`, so no
 * test ever asks the machine's resolver.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, type RunningProcess } from './child-process.js';
import { allocatePort, udpPortFree } from './sip/ports.js';

export interface DnsRecords {
  /** Zones answered locally only, e.g. `example.test`. */
  readonly zones: readonly string[];
  readonly a?: readonly { name: string; address: string }[];
  readonly srv?: readonly { name: string; target: string; port: number; priority: number; weight: number }[];
  /** RFC 3403 NAPTR: flags `s` and a SIP service (`SIP+D2U`, `SIP+D2T`, `SIPS+D2T`) pointing at an SRV name. */
  readonly naptr?: readonly { name: string; order: number; preference: number; flags: string; service: string; replacement: string }[];
}

export interface TestDns {
  readonly port: number;
  /** For `sip.dns.servers`. */
  readonly server: string;
  /** The queries dnsmasq logged, e.g. `query[SRV] _sip._udp.example.test from 127.0.0.1`. */
  queries(): string[];
  stop(): Promise<void>;
}

export async function startDnsmasq(records: DnsRecords): Promise<TestDns> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-dnsmasq-'));
  const lines = [
    ...records.zones.map((zone) => `local=/${zone}/`),
    ...(records.a ?? []).map((a) => `host-record=${a.name},${a.address}`),
    ...(records.srv ?? []).map((srv) => `srv-host=${srv.name},${srv.target},${srv.port},${srv.priority},${srv.weight}`),
    // An empty regexp field: the replacement names the SRV record (RFC 3263 section 4.1).
    ...(records.naptr ?? []).map((n) => `naptr-record=${n.name},${n.order},${n.preference},${n.flags},${n.service},,${n.replacement}`),
  ];
  const config = join(dir, 'dnsmasq.conf');
  writeFileSync(config, `${lines.join('\n')}\n`);
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await allocatePort();
    if (!(await udpPortFree(port))) continue;
    const running: RunningProcess = startProcess('dnsmasq', [
      '--keep-in-foreground',
      `--conf-file=${config}`,
      '--no-resolv',
      '--no-hosts',
      '--no-poll',
      '--bind-interfaces',
      '--listen-address=127.0.0.1',
      '--interface=lo',
      `--port=${port}`,
      '--pid-file=',
      '--user=root',
      '--local-ttl=30',
      '--log-queries',
      '--log-facility=-',
      '--cache-size=0',
    ]);
    try {
      await running.waitFor(/started, version/, 10_000);
    } catch (error) {
      await running.stop();
      if (/Address already in use/.test(running.output())) continue;
      throw error;
    }
    return {
      port,
      server: `127.0.0.1:${port}`,
      queries: () => [...running.output().matchAll(/query\[[A-Z]+\] \S+ from \S+/g)].map((match) => match[0]),
      stop: () => running.stop(),
    };
  }
  throw new Error('dnsmasq found no free port');
}
