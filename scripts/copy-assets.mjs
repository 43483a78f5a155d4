// Copies non-TypeScript runtime assets (Lua scripts, audio, the console's static page) from src/ into
// dist/ after tsc. Everything under an `assets` folder is copied as it is (the console's HTML/JS/CSS).
import { cpSync, existsSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { join, extname, dirname } from 'node:path';

const EXTENSIONS = new Set(['.lua', '.wav', '.pcm', '.json']);

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (EXTENSIONS.has(extname(name)) || path.split(/[\\/]/).includes('assets')) {
      const target = join('dist', path.slice('src/'.length));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}

if (existsSync('src')) walk('src');
