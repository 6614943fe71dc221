import fc from 'fast-check';
import { expect, it } from 'vitest';

/**
 * How long the fuzz properties run, read once from the environment:
 * - normal test run (nothing set): each property makes the small number of runs its file gives,
 *   chosen so that a file takes a few seconds;
 * - `FUZZ_SECONDS=n` (`npm run fuzz` sets it): each property runs for n seconds, however many
 *   runs that takes;
 * - `FUZZ_RUNS=n`: each property makes exactly n runs;
 * - `FUZZ_SEED=s` and `FUZZ_PATH=p`: replay the failure a previous run printed.
 */
interface FuzzSettings {
  readonly seconds: number | undefined;
  readonly runs: number | undefined;
  readonly seed: number | undefined;
  readonly path: string | undefined;
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${name} must be a positive number, got ${JSON.stringify(text)}`);
  return value;
}

function readSettings(env: NodeJS.ProcessEnv): FuzzSettings {
  const seed = env['FUZZ_SEED'];
  if (seed !== undefined && seed !== '' && !Number.isInteger(Number(seed))) throw new TypeError(`FUZZ_SEED must be an integer, got ${JSON.stringify(seed)}`);
  return {
    seconds: positive('FUZZ_SECONDS', env['FUZZ_SECONDS']),
    runs: positive('FUZZ_RUNS', env['FUZZ_RUNS']),
    seed: seed === undefined || seed === '' ? undefined : Number(seed),
    path: env['FUZZ_PATH'] || undefined,
  };
}

const settings = readSettings(process.env);

function parameters<Ts>(normalRuns: number): fc.Parameters<Ts> {
  const replay = { ...(settings.seed === undefined ? {} : { seed: settings.seed }), ...(settings.path === undefined ? {} : { path: settings.path }) };
  if (settings.runs !== undefined) return { numRuns: Math.round(settings.runs), ...replay };
  if (settings.seconds !== undefined) {
    // The plugin is typed for any property (unknown), so it is narrowed to this one's values.
    return { numRuns: Number.MAX_SAFE_INTEGER, plugins: [fc.interruptAfterTimeLimit(settings.seconds * 1000) as fc.Plugin<Ts>], ...replay };
  }
  return { numRuns: normalRuns, ...replay };
}

/** The vitest timeout of one property: its run budget plus room for shrinking a failure. */
function timeoutMs(): number {
  if (settings.seconds !== undefined) return settings.seconds * 1000 + 120_000;
  // Normal runs take seconds; the rest is for shrinking a failure to a small counterexample.
  return settings.runs !== undefined ? 30 * 60_000 : 120_000;
}

/**
 * The error that failed the property, its message prefixed with fast-check's report
 * (counterexample, seed, path) and the command that replays it; vitest still shows its diff.
 */
function failure<Ts>(details: fc.RunDetails<Ts>): Error {
  const { testPath, currentTestName } = expect.getState();
  const file = testPath === undefined ? 'test/fuzz' : testPath.slice(testPath.indexOf('test/fuzz'));
  const name = (currentTestName ?? '').split(' > ').at(-1) ?? '';
  const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} npx vitest run ${file} -t ${JSON.stringify(name)}`;
  const report = `${fc.defaultReportMessage(details) ?? 'property failed'}\n\nReplay with:\n  ${replay}\n\n`;
  const error = details.errorInstance instanceof Error ? details.errorInstance : new Error(String(details.errorInstance));
  error.message = report + error.message;
  return error;
}

/** A vitest test that checks a synchronous property; `build` runs inside the test. */
export function fuzzProperty<Ts>(name: string, normalRuns: number, build: () => fc.IProperty<Ts>): void {
  it(
    name,
    () => {
      const details = fc.check(build(), parameters<Ts>(normalRuns));
      if (details.failed) throw failure(details);
    },
    timeoutMs(),
  );
}

/** The same for an asynchronous property (one that talks to sockets). */
export function fuzzAsyncProperty<Ts>(name: string, normalRuns: number, build: () => fc.IAsyncProperty<Ts>): void {
  it(
    name,
    async () => {
      const details = await fc.check(build(), parameters<Ts>(normalRuns));
      if (details.failed) throw failure(details);
    },
    timeoutMs(),
  );
}

/**
 * Calls `parse` and returns what it returned, or the error it threw if that error is one of
 * the module's typed errors (`expected`); anything else it throws fails the property.
 */
export function typedOutcome<T>(parse: () => T, ...expected: (abstract new (...args: never[]) => Error)[]): { value: T } | { error: Error } {
  try {
    return { value: parse() };
  } catch (error) {
    if (expected.some((type) => error instanceof type)) return { error: error as Error };
    throw error;
  }
}
