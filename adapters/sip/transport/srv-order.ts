/**
 * The order in which a client tries the targets of an SRV answer (RFC 2782,
 * "Usage rules"): lowest priority first; within one priority, a weighted
 * random pick repeated until none is left, so a target of weight 60 is first
 * three times as often as one of weight 20. Pure: `random` returns a number in
 * [0, 1) (Math.random in the gateway, a fixed sequence in tests).
 */

export interface SrvRecordLike {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export function orderSrvRecords<T extends SrvRecordLike>(records: readonly T[], random: () => number = Math.random): T[] {
  const byPriority = new Map<number, T[]>();
  for (const record of records) {
    // RFC 2782: a target of "." means the service is decidedly not available at this domain.
    if (record.name === '' || record.name === '.') continue;
    const group = byPriority.get(record.priority) ?? [];
    group.push(record);
    byPriority.set(record.priority, group);
  }
  const ordered: T[] = [];
  for (const priority of [...byPriority.keys()].sort((a, b) => a - b)) {
    ordered.push(...weightedShuffle(byPriority.get(priority)!, random));
  }
  return ordered;
}

/**
 * RFC 2782: put the weight-0 records first, sum the weights as running
 * totals, pick a uniform number between 0 and the sum (inclusive) and take
 * the first record whose running total reaches it; repeat with the rest.
 * Weight-0 records are thus picked only when nothing weighs, or when the
 * number drawn is 0 exactly.
 */
function weightedShuffle<T extends SrvRecordLike>(group: readonly T[], random: () => number): T[] {
  const remaining = [...group.filter((record) => record.weight === 0), ...group.filter((record) => record.weight !== 0)];
  const picked: T[] = [];
  while (remaining.length > 0) {
    const total = remaining.reduce((sum, record) => sum + record.weight, 0);
    // Integers 0..total inclusive, as the RFC draws them.
    const draw = Math.min(total, Math.floor(random() * (total + 1)));
    let running = 0;
    let index = remaining.findIndex((record) => (running += record.weight) >= draw);
    if (index === -1) index = 0;
    picked.push(remaining.splice(index, 1)[0]!);
  }
  return picked;
}
