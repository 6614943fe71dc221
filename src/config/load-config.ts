import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ConfigInput, type GatewayConfig } from './config-schema.js';

/** Raised for any invalid configuration; the message names the offending key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    readonly key?: string,
  ) {
    super(message);
  }
}

/** Environment variables `SWITCHBOARD_A__B=v` set key `a.b`; `__` separates levels. */
export const ENV_PREFIX = 'SWITCHBOARD_';

/**
 * Builds the configuration from an optional YAML/JSON file, then environment
 * variables on top, then validates once. Nothing else in the process reads
 * the environment.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv } = {}): GatewayConfig {
  let input: Record<string, unknown> = {};
  if (options.file) input = readConfigFile(options.file);
  applyEnvironment(input, options.env ?? {});
  return validateConfig(input);
}

export function validateConfig(input: unknown): GatewayConfig {
  const result = configSchema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issueKey(issue);
  throw new ConfigError(`invalid configuration: ${key || '(root)'}: ${issueText(issue)}`, key);
}

function issueKey(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') path.push(issue.keys[0] ?? '');
  return path.join('.');
}

function issueText(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return 'unknown option';
  return issue.message;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    // YAML is a superset of JSON, so one parser reads both formats.
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${file} is not valid YAML/JSON: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${file} must hold a mapping at the top level`);
  }
  return parsed as Record<string, unknown>;
}

function applyEnvironment(target: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((part) => envPartToKey(part));
    let node = target;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]!] = parseEnvValue(raw);
  }
}

/** `MAX_FRAME_BYTES` -> `maxFrameBytes`, matching the schema's camelCase keys. */
function envPartToKey(part: string): string {
  return part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Numbers, booleans and `[a, b]` lists are typed the YAML way; the rest stays a string. */
function parseEnvValue(raw: string): unknown {
  try {
    const value: unknown = parseYaml(raw);
    return value === null ? raw : value;
  } catch {
    return raw;
  }
}

export type { ConfigInput, GatewayConfig };
