// Copies non-TypeScript runtime assets (Lua scripts, audio) from src/ into dist/ after tsc.
import { cpSync, existsSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, extname, dirname } from 'node:path';

const EXTENSIONS = new Set(['.lua', '.wav', '.pcm', '.json']);

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (EXTENSIONS.has(extname(name))) {
      const target = join('dist', path.slice('src/'.length));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}

if (existsSync('src')) walk('src');
