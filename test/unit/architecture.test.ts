import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency rules of the README's architecture section, checked on the source tree.

const ROOT = resolve(import.meta.dirname, '../..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) out.push(...sourceFiles(path));
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Import specifiers of a file, resolved to repository paths for relative ones. */
function imports(file: string): string[] {
  // Comments may show example imports (the SDK's usage text); only code counts.
  const text = readFileSync(join(ROOT, file), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const specifiers = [...text.matchAll(/(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map(
    (m) => (m[1] ?? m[2])!,
  );
  return specifiers.map((s) => (s.startsWith('.') ? relative(ROOT, resolve(join(ROOT, dirname(file)), s)).replace(/\.js$/, '.ts') : s));
}

const SRC = sourceFiles('src');

describe('dependency rules', () => {
  it('only src/media/webrtc-endpoint.ts imports node-datachannel', () => {
    const importers = SRC.filter((file) => imports(file).includes('node-datachannel'));
    expect(importers).toEqual(['src/media/webrtc-endpoint.ts']);
  });

  it('the core never imports an adapter, except the composition root', () => {
    const offenders = SRC.filter((file) => file !== 'src/gateway.ts' && imports(file).some((i) => i.startsWith('adapters/')));
    expect(offenders).toEqual([]);
  });

  it('the browser SDK and demo page import only themselves and the protocol types', () => {
    const browserFiles = SRC.filter((file) => file.startsWith('src/client/') || file.startsWith('src/web/'));
    expect(browserFiles.length).toBeGreaterThan(3);
    for (const file of browserFiles) {
      for (const target of imports(file)) {
        expect(
          target.startsWith('src/client/') || target.startsWith('src/web/') || target === 'src/protocol/messages.ts',
          `${file} imports ${target}`,
        ).toBe(true);
      }
    }
  });

  it('protocol adapters import only the core surface (src/index.ts), never each other', () => {
    const adapterFiles = sourceFiles('adapters');
    for (const file of adapterFiles) {
      const own = file.split('/').slice(0, 2).join('/');
      for (const target of imports(file)) {
        if (!target.startsWith('src/') && !target.startsWith('adapters/')) continue;
        expect(target === 'src/index.ts' || target.startsWith(`${own}/`), `${file} imports ${target}`).toBe(true);
      }
    }
  });
});
