/**
 * The sipp scenarios in test/sip/scenarios, each UAC against its UAS
 * partner (sipp against sipp on 127.0.0.1), so a scenario the gateway tests
 * use is known to be valid XML and a correct flow before the gateway is
 * involved. The gateway plays one side in those tests.
 */
import { describe, expect, it } from 'vitest';
import { describeSipp, runSipp, startSippServer, type SippOptions } from '../support/sip/sipp.js';

interface Pair {
  uac: string;
  uas: string;
  uacOptions?: Partial<SippOptions>;
}

const pairs: Pair[] = [
  { uac: 'uac-call-bye', uas: 'uas-answer' },
  { uac: 'uac-busy', uas: 'uas-busy' },
  { uac: 'uac-cancel', uas: 'uas-ring-cancel' },
  { uac: 'uac-call-remote-bye', uas: 'uas-answer-bye' },
  { uac: 'uac-hold', uas: 'uas-hold' },
  { uac: 'uac-info-dtmf', uas: 'uas-info' },
  { uac: 'uac-refer', uas: 'uas-refer', uacOptions: { variables: { refer_to: 'sip:carol@127.0.0.1:5999' } } },
];

async function runPair(pair: Pair, transport: 'u1' | 't1'): Promise<void> {
  // Over TCP the side that finishes first exits and closes the connection; the scenarios
  // end right after their last message over TCP (reliable_transport), so that is safe.
  const uas = await startSippServer({ scenario: pair.uas, transport, calls: 1, pauseMs: 200, timeoutS: 15 });
  try {
    const uac = await runSipp({
      scenario: pair.uac,
      remote: `127.0.0.1:${uas.port}`,
      transport,
      service: 'alice',
      pauseMs: 200,
      timeoutS: 10,
      ...pair.uacOptions,
    });
    expect(uac.exitCode, `${pair.uac}: ${describeSipp(uac)}`).toBe(0);
    expect(uac.stats.successfulCalls).toBe(1);
    const server = await uas.done;
    expect(server.stats.successfulCalls, `${pair.uas}: ${describeSipp(server)}`).toBe(1);
    expect(server.stats.failedCalls, `${pair.uas}: ${describeSipp(server)}`).toBe(0);
    expect(server.exitCode, `${pair.uas}: ${describeSipp(server)}`).toBe(0);
  } finally {
    await uas.stop();
  }
}

/** Runs every pair side by side; waits for all (so each stops its sipp) before failing. */
async function allPairs(transport: 'u1' | 't1'): Promise<void> {
  const results = await Promise.allSettled(pairs.map((pair) => runPair(pair, transport)));
  const failures = results.filter((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failures.length > 0) throw failures[0]!.reason;
}

describe('sipp scenarios, each against its partner', () => {
  it('all pairs complete over UDP', async () => {
    await allPairs('u1');
  });

  it('all pairs complete over TCP', async () => {
    await allPairs('t1');
  });
});
