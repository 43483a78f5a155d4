// README's "Measured" table is rendered from bench/results (scripts/bench-report.mjs): this fails when
// someone edits a figure by hand, or adds a result file the table does not yet show.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { END, START, readmeTable, render, rows } from '../../scripts/bench-report.mjs';

const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README Measured table', () => {
  it('is exactly what `npm run bench:report` renders from bench/results', () => {
    expect(readmeTable(README)).toBe(render());
  });

  it('names an existing result file in every row that gives a figure', () => {
    for (const [what, result, , file] of rows()) {
      if (file === 'none') {
        expect(result, what).toMatch(/^not yet measured/);
        continue;
      }
      const path = file.replace(/`/g, '');
      expect(path, what).toMatch(/^bench\/results\//);
      expect(existsSync(new URL(`../../${path}`, import.meta.url)), path).toBe(true);
    }
  });

  it('detects a hand-edited figure', () => {
    const edited = README.replace('p50 27.8 ms', 'p50 2.9 ms');
    expect(edited).not.toBe(README);
    expect(readmeTable(edited)).not.toBe(render());
  });

  it('finds no table without its markers', () => {
    expect(readmeTable(README.replace(START, ''))).toBeNull();
    expect(readmeTable(README.replace(END, ''))).toBeNull();
  });
});
