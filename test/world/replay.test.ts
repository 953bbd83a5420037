/**
 * Every vector recorded from a real kernel (test/fixtures/oracle) replays through the full packet
 * path with an exact match: the real server of every connection, the director's counters
 * after every step, ipvsadm -Ln byte for byte, -Lnc as a set of rows.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { replayVector, vectorError, type Vector } from '../../src/world/replay';

const DIR = 'test/fixtures/oracle';
const vectors = existsSync(DIR) ? readdirSync(DIR).filter(f => f.endsWith('.json')).sort() : [];

describe('kernel vectors replay exactly', () => {
  it('finds the recorded vectors beside the project', () => {
    expect(vectors.length).toBeGreaterThanOrEqual(7);
  });
  for (const f of vectors) {
    it(`${f}: same real server, counters and listings as Linux 6.1`, () => {
      const v = JSON.parse(readFileSync(`${DIR}/${f}`, 'utf8')) as Vector;
      expect(vectorError(v)).toBeNull();
      const r = replayVector(v, f);
      expect(r.diagnostics).toEqual([]);
      expect(r.diffs).toEqual([]);
      expect(r.final['ipvsadm-Ln']).toBe(v.final!['ipvsadm-Ln']);
      for (const [i, st] of v.steps.entries()) {
        if (st.do === 'connect' && st.expect?.rs) expect(r.steps[i].rs, `step ${st.n}`).toBe(st.expect.rs);
      }
    });
  }

  it('reports a difference when the vector disagrees', () => {
    const v = JSON.parse(readFileSync(`${DIR}/baseline.json`, 'utf8')) as Vector;
    v.steps[0].expect = { ok: true, rs: '172.16.197.3' };
    const r = replayVector(v, 'baseline.json');
    expect(r.diffs[0]).toBe('step 1: expected real server 172.16.197.3, got 192.168.134.5');
  });
});
