// The deployment's other input next to bicep/: the image. It runs the Node major the tests and CI run on,
// and installs production dependencies only: the local stand-ins are devDependencies, and production
// code reaches a module that needs one only through a dynamic import (demo/dev), so a pruned image starts.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const read = (p: string) => readFileSync(join(root, p), 'utf8');
const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string>; engines: { node: string } };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Module specifiers a file imports statically at run time (not `import type`, not `import(...)`). */
function staticImports(text: string): string[] {
  return [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?'([^']+)'/gm)].map((m) => m[1] ?? '');
}

const packageOf = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));

describe('image', () => {
  it('runs the Node major CI and the tests run on', () => {
    const images = [...read('Dockerfile').matchAll(/^FROM\s+node:(\d+)/gm)].map((m) => m[1]);
    const ci = /node-version:\s*(\d+)/.exec(read('.github/workflows/ci.yml'))?.[1];
    const engines = /(\d+)/.exec(pkg.engines.node)?.[1];
    expect(images.length).toBeGreaterThan(0);
    expect(new Set([...images, ci, engines, process.versions.node.split('.')[0]])).toEqual(new Set([ci]));
  });

  it('copies node_modules from a stage that dropped the devDependencies', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/npm prune --omit=dev|npm ci[^\n]*--omit=dev/);
    expect(dockerfile).toMatch(/COPY --from=build[^\n]*\/app\/node_modules/);
  });

  it('keeps the local stand-ins out of the production dependencies', () => {
    for (const name of ['@vercel/cosmosdb-server', 'selfsigned', 'tsx', 'vitest']) {
      expect(Object.keys(pkg.dependencies)).not.toContain(name);
    }
  });

  it('reaches a module that needs a devDependency only through a dynamic import', () => {
    const files = sourceFiles(join(root, 'src'));
    const dev = new Set(Object.keys(pkg.devDependencies));
    const devOnly = new Set(files.filter((f) => staticImports(readFileSync(f, 'utf8')).some((s) => dev.has(packageOf(s)))));
    expect([...devOnly].map((f) => relative(root, f))).toEqual(['src/adapters/cosmos/embedded-cosmos-server.ts']);
    const offenders = files.flatMap((f) => {
      const here = relative(join(root, 'src'), f);
      return staticImports(readFileSync(f, 'utf8'))
        .filter((s) => s.startsWith('.'))
        .filter((s) => devOnly.has(resolve(join(root, 'src', here, '..'), s).replace(/\.js$/, '.ts')))
        .map((s) => `${here} imports ${s}`);
    });
    expect(offenders).toEqual([]);
  });
});
