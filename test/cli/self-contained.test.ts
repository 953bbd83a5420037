/**
 * A clone stands on its own: no tracked file (source, test, script, doc, scenario) names a path
 * outside the repository, and every Markdown file a comment or doc cites is in the repository.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const files = execFileSync('git', ['ls-files'], { encoding: 'utf8' }).trim().split('\n')
  .filter(f => /\.(ts|mjs|js|json|md|yaml|yml|html|css|sh)$|^Dockerfile$|^\.ci\//.test(f) && f !== 'package-lock.json' && !(f.startsWith('test/fixtures/') && !f.endsWith('.md')));
const tracked = new Set(execFileSync('git', ['ls-files'], { encoding: 'utf8' }).trim().split('\n'));

// Built from pieces so this file does not match itself.
const OUTSIDE = [new RegExp(['\\.\\.', 'shared'].join('/')), new RegExp(['', 'work', ''].join('/')), new RegExp(`\\bshared/(${['oracle', 'bench', 'reference', 'seed'].join('|')})\\b`)];

describe('the repository never reaches outside itself', () => {
  it('lists the files it checks', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files).toContain('src/cli/main.ts');
    expect(files).toContain('scripts/bench-compare.mjs');
  });

  it('no file names a path outside the repository', () => {
    const hits: string[] = [];
    for (const f of files) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        for (const re of OUTSIDE) if (re.test(line)) hits.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
    expect(hits).toEqual([]);
  });

  it('every Markdown file cited is in the repository', () => {
    const missing: string[] = [];
    for (const f of files) {
      readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
        for (const m of line.matchAll(/([A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)\b/g)) {
          const cited = m[1]!.replace(/^\.\//, '');
          if (![...tracked].some(t => t === cited || t.endsWith(`/${cited}`))) missing.push(`${f}:${i + 1}: ${cited}`);
        }
      });
    }
    expect(missing).toEqual([]);
  });
});
