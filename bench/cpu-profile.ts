/**
 * Summarises a V8 .cpuprofile (what `node --cpu-prof` writes) into self time
 * per function and per area of code, optionally cut to a time window so the
 * steady state is not mixed with call setup. The profile samples only the
 * JavaScript thread: native threads (node-datachannel's) are not in it.
 *
 * Format: `nodes` is the call tree (id, callFrame, children); `samples[i]` is
 * the node on top of the stack at sample i, taken `timeDeltas[i]` µs after the
 * previous one, from `startTime` (µs, the clock of process.hrtime).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  selfMs: number;
  /** Percent of the sampled time, idle excluded. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** True when the samples were cut to the measurement window. */
  windowed: boolean;
  busyMs: number;
  idleMs: number;
  functions: SelfTime[];
  areas: SelfTime[];
}

/** The profile written by process `pid` in `dir` (Node names it CPU.<date>.<time>.<pid>.<tid>.<seq>.cpuprofile). */
export async function findProfile(dir: string, pid: number): Promise<string | undefined> {
  const files = await readdir(dir).catch(() => [] as string[]);
  const file = files.find((name) => name.endsWith('.cpuprofile') && name.includes(`.${pid}.`));
  return file === undefined ? undefined : join(dir, file);
}

/** Where a function lives, short: a path from the package root, or the npm package, or Node's module. */
function location(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const npm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\/(.*)$/.exec(path);
  if (npm) return `${npm[1]}/${npm[2]}`;
  const own = /\/dist\/((?:src|bench)\/.*)$/.exec(path);
  return own ? own[1]! : path;
}

/** The area a frame belongs to: an npm package, a Node core module, the gateway's own code, or V8/native. */
function area(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName.startsWith('(') ? functionName : 'native functions (C++ bindings, V8 builtins)';
  if (url.startsWith('node:')) return `Node core: ${url.replace(/^node:(internal\/)?/, '').split('/')[0]}`;
  const npm = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm: ${npm[1]}`;
  const own = /\/dist\/(src|bench)\/(.*?)(\.js)?$/.exec(url);
  return own ? `switchboard: ${own[1]}/${own[2]}` : url;
}

export async function summariseProfile(file: string, window?: { fromUs: number; toUs: number }, top = 15): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  const add = (map: Map<string, number>, key: string, us: number): void => void map.set(key, (map.get(key) ?? 0) + us);

  let at = profile.startTime;
  let inWindow = 0;
  const meanDelta = (profile.endTime - profile.startTime) / Math.max(1, profile.samples.length);
  const tally = (useWindow: boolean): void => {
    at = profile.startTime;
    for (const [i, nodeId] of profile.samples.entries()) {
      at += profile.timeDeltas[i] ?? 0;
      if (useWindow && window && (at < window.fromUs || at > window.toUs)) continue;
      inWindow += 1;
      // A sample stands for the time until the next one.
      const us = profile.timeDeltas[i + 1] ?? meanDelta;
      const frame = frames.get(nodeId);
      if (!frame) continue;
      const name = frame.url === '' ? frame.functionName : `${frame.functionName || '(anonymous)'} ${location(frame.url)}:${frame.lineNumber + 1}`;
      add(byFunction, name, us);
      add(byArea, area(frame), us);
    }
  };
  tally(window !== undefined);
  // No sample in the window: the clocks disagreed; the whole profile is better than nothing.
  const windowed = window !== undefined && inWindow > 0;
  if (window !== undefined && !windowed) tally(false);

  const idleUs = byFunction.get('(idle)') ?? 0;
  const busyUs = [...byFunction.values()].reduce((sum, us) => sum + us, 0) - idleUs;
  const ranked = (map: Map<string, number>, count: number): SelfTime[] =>
    [...map]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ name, selfMs: us / 1000, pct: (100 * us) / Math.max(1, busyUs) }));
  return { file, windowed, busyMs: busyUs / 1000, idleMs: idleUs / 1000, functions: ranked(byFunction, top), areas: ranked(byArea, 12) };
}
