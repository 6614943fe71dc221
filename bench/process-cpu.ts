/**
 * Where a process's CPU goes, thread by thread, from /proc (Linux only).
 * process.cpuUsage() sums every thread; the gateway's limit, though, is its one
 * JavaScript thread, while node-datachannel's native threads (ICE, DTLS-SRTP,
 * its worker pool) run beside it. Reading /proc/<pid>/task/<tid>/stat splits
 * the two. Elsewhere the functions return undefined and the split is omitted.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's utime and stime (almost always 100). */
const CLOCK_TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Thread group name -> CPU ms and thread count. */
export type ThreadCpu = Map<string, { ms: number; threads: number }>;

/**
 * CPU time of every thread of `pid` so far, grouped by thread name; the main
 * thread (tid = pid, where JavaScript runs) is 'main (JS)'.
 */
export function threadCpu(pid: number): ThreadCpu | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const groups: ThreadCpu = new Map();
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // "tid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    // Fields 14 and 15 of proc(5), counted from 1 before the cut: utime and stime.
    const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    const name = Number(tid) === pid ? 'main (JS)' : comm;
    const group = groups.get(name) ?? { ms: 0, threads: 0 };
    group.ms += ms;
    group.threads += 1;
    groups.set(name, group);
  }
  return groups;
}

export interface ThreadShare {
  thread: string;
  threads: number;
  /** Percent of one core over the interval. */
  cpuPct: number;
}

/** CPU per thread group between two readings, as % of one core over `wallMs`, busiest first. */
export function threadShares(before: ThreadCpu | undefined, after: ThreadCpu | undefined, wallMs: number): ThreadShare[] | undefined {
  if (!before || !after) return undefined;
  return [...after]
    .map(([thread, { ms, threads }]) => ({ thread, threads, cpuPct: (100 * (ms - (before.get(thread)?.ms ?? 0))) / wallMs }))
    .filter((share) => share.cpuPct > 0.05)
    .sort((a, b) => b.cpuPct - a.cpuPct);
}

/** Busy and total CPU time of the whole machine so far (every core), ms, from /proc/stat; undefined off Linux. */
export function machineCpu(): { busyMs: number; totalMs: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu  user nice system idle iowait irq softirq steal ...: idle and iowait are the not-busy ones.
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    return { busyMs: ((total - idle) * 1000) / CLOCK_TICKS, totalMs: (total * 1000) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** CPU time of process `pid` so far (every thread), ms, from /proc/<pid>/stat; undefined if unreadable. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
