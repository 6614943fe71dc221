/**
 * What the media benchmark's parts share: its settings (from BENCH_* variables),
 * the shapes of its figures, and the probes that read CPU and traffic over a
 * measurement window.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SetupTimes } from './browser-peer.js';
import type { ChromiumRun } from './chromium-setup.js';
import type { SetupRun } from './media-setup.js';
import type { ProfileSummary } from './cpu-profile.js';
import type { AnchorCounters, MediaGatewayStats } from './media-gateway-process.js';
import type { LoadMeter, WindowFigures } from './media-load.js';
import { machineCpu, processCpuMs, threadCpu, threadShares, type ThreadShare } from './process-cpu.js';
import type { Percentiles } from './run.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

/** Parts of `npm run bench media`, all by default: BENCH_MEDIA_PARTS=setup,chromium runs call set-up alone. */
const PARTS = new Set((process.env.BENCH_MEDIA_PARTS ?? 'setup,chromium,ramp').split(',').map((part) => part.trim()));

export const SETTINGS = {
  parts: { setup: PARTS.has('setup'), chromium: PARTS.has('chromium'), ramp: PARTS.has('ramp') },
  /** Call set-up alone (media-setup.ts): calls per run, and the set-ups in flight of each run. */
  setupCalls: env('BENCH_SETUP_CALLS', 200),
  setupConcurrency: [10, 50],
  /** Chromium (chromium-setup.ts): calls to service:echo, and to and from baresip and SIP.js. */
  chromiumEchoCalls: env('BENCH_CHROMIUM_ECHO_CALLS', 50),
  chromiumPhoneCalls: env('BENCH_CHROMIUM_PHONE_CALLS', 20),
  /** Concurrent calls at each step of the ramp. */
  steps: process.env.BENCH_CALLS?.split(',').map((s) => Number(s.trim())) ?? [50, 100, 200, 300, 400],
  windowMs: env('BENCH_WINDOW_S', 10) * 1000,
  /** After a step's calls are placed, before its window (plus at least 1 s of awaitQuietMachine). */
  settleMs: 2000,
  /** After a window, packets sent at its end are still in flight. */
  graceMs: 500,
  /** Calls being set up at once in the ramp: enough to ramp fast, few enough that setup time is not our own queue. */
  rampSetupConcurrency: 10,
  /** A failed setup is tried once more (node-datachannel's own races, on the browser side). */
  setupAttempts: 2,
  profileCalls: env('BENCH_PROFILE_CALLS', 200),
  profile: process.env.BENCH_PROFILE !== '0',
  /**
   * Before each window, wait while other processes (not this benchmark's) use more than
   * quietBelowPct of a core, up to quietBudgetMs over the whole run: the machine may be shared.
   */
  quietBelowPct: 30,
  quietBudgetMs: env('BENCH_QUIET_BUDGET_S', 60) * 1000,
  /** The ramp stops after a step beyond any of these. */
  stopAtLossPct: 5,
  stopAtCpuPct: 95,
};

export interface ProcessCpu {
  /** % of one core, every thread. */
  cpuPct: number;
  /** % of one core, the JavaScript thread alone (Linux). */
  mainPct: number | undefined;
  threads: ThreadShare[] | undefined;
}

/** The machine during a window: all cores busy, and the part no process of the benchmark used (% of one core). */
export interface MachineLoad {
  busyPct: number;
  othersPct: number;
}

export interface GatewayStep {
  calls: number;
  added: number;
  failedSetups: number;
  /** Setups that succeeded on their second attempt. */
  retriedSetups: number;
  setupMs: Record<keyof SetupTimes, Percentiles>;
  window: WindowFigures;
  gateway: ProcessCpu & {
    rssBytes: number;
    heapUsedBytes: number;
    loopDelayMs: MediaGatewayStats['loopDelayMs'];
    /** Packets the anchors counted over `anchorsMs` (window and grace): where packets went missing. */
    anchors: AnchorCounters;
    anchorsMs: number;
  };
  driver: ProcessCpu & { sendMsPerSecond: number; pacerStalls: number };
  machine: MachineLoad | undefined;
  /** Time waited for other processes to calm down before the window. */
  quietWaitMs: number;
}

export interface ReferenceStep {
  streams: number;
  window: WindowFigures;
  relay: { cpuPct: number };
  driver: ProcessCpu;
  machine: MachineLoad | undefined;
  quietWaitMs: number;
}

export interface ProfileFigures extends ProfileSummary {
  calls: number;
  gatewayCpuPct: number;
  /** The JS thread's CPU over the profiled window, % of one core (/proc). */
  jsCpuPct: number | undefined;
}

export interface MediaRun {
  /** Call set-up alone (media-setup.ts), node-datachannel browsers; empty when not run. */
  setup: SetupRun[];
  /** Call set-up with Chromium (chromium-setup.ts); empty when not run. */
  chromium: ChromiumRun[];
  reference: ReferenceStep[];
  steps: GatewayStep[];
  idleRssBytes: number;
  stoppedBecause: string | undefined;
  firstFailure: string | undefined;
  profile: ProfileFigures | undefined;
}

/** "main (JS) 40%, juice poll 12%": the three busiest thread groups, for the progress log. */
export function busiestThreads(threads: ThreadShare[] | undefined): string {
  return threads?.slice(0, 3).map((t) => `${t.thread} ${t.cpuPct.toFixed(0)}%`).join(', ') ?? '?';
}

/**
 * Starts reading CPU for this process, a child, and the machine; the returned
 * function ends the interval. `childCpuPct` (the child's own process.cpuUsage
 * figure, read over IPC) is needed to tell the others' share of the machine.
 */
export function cpuProbe(childPid: number): (childCpuPct: number) => {
  driver: ProcessCpu;
  childThreads: ThreadShare[] | undefined;
  machine: MachineLoad | undefined;
  wallMs: number;
} {
  const start = { wall: performance.now(), own: process.cpuUsage(), ownThreads: threadCpu(process.pid), child: threadCpu(childPid), machine: machineCpu() };
  return (childCpuPct) => {
    const wallMs = performance.now() - start.wall;
    const own = process.cpuUsage(start.own);
    const ownThreads = threadShares(start.ownThreads, threadCpu(process.pid), wallMs);
    const driverPct = (own.user + own.system) / 10 / wallMs;
    const machineNow = machineCpu();
    const busyPct = start.machine && machineNow ? (100 * (machineNow.busyMs - start.machine.busyMs)) / wallMs : undefined;
    return {
      wallMs,
      driver: { cpuPct: driverPct, mainPct: ownThreads?.find((t) => t.thread === 'main (JS)')?.cpuPct, threads: ownThreads },
      childThreads: threadShares(start.child, threadCpu(childPid), wallMs),
      machine: busyPct === undefined ? undefined : { busyPct, othersPct: Math.max(0, busyPct - driverPct - childCpuPct) },
    };
  };
}

let quietBudgetLeftMs = SETTINGS.quietBudgetMs;

/**
 * Waits, one 1 s sample at a time and within what is left of the run's budget, until the CPU
 * used by processes other than this one and `childPid` is under quietBelowPct of a core.
 * Returns the time waited; on a shared machine a neighbour's burst then falls between windows.
 */
export async function awaitQuietMachine(childPid: number): Promise<number> {
  const started = performance.now();
  while (quietBudgetLeftMs > 0) {
    const before = { machine: machineCpu(), own: processCpuMs(process.pid), child: processCpuMs(childPid), at: performance.now() };
    await sleep(1000);
    const [machine, own, child] = [machineCpu(), processCpuMs(process.pid), processCpuMs(childPid)];
    if (!machine || !before.machine || own === undefined || child === undefined) break; // not Linux: no way to tell
    const elapsed = performance.now() - before.at;
    const othersPct = (100 * (machine.busyMs - before.machine.busyMs - (own - (before.own ?? 0)) - (child - (before.child ?? 0)))) / elapsed;
    if (othersPct < SETTINGS.quietBelowPct) break;
    quietBudgetLeftMs -= elapsed;
  }
  return performance.now() - started;
}

/** One measurement window, plus the grace time for the packets sent at its end. */
export async function measureWindow(meter: LoadMeter): Promise<WindowFigures> {
  meter.begin(SETTINGS.windowMs);
  await sleep(SETTINGS.windowMs + SETTINGS.graceMs);
  return meter.figures();
}
