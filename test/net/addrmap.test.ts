import { describe, expect, test } from 'vitest';
import { AddrMap } from '../../src/net/addrmap';
import { ip4 } from '../../src/net/addr';

describe('AddrMap', () => {
  test('agrees with a Map through random sets, deletes and re-adds (high and low addresses, 0.0.0.0 too)', () => {
    const m = new AddrMap<number>();
    const ref = new Map<number, number>();
    let x = 12345;
    const rnd = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x; };
    const pool = [0, 1, 0xffffffff, ip4('172.16.29.6'), ip4('10.1.0.1'), ...Array.from({ length: 3000 }, () => rnd())];
    for (let i = 0; i < 12000; i++) {
      const a = pool[rnd() % pool.length]!;
      const op = rnd() % 3;
      if (op === 0) { m.set(a, i); ref.set(a, i); }
      else if (op === 1) expect(m.delete(a)).toBe(ref.delete(a));
      else { expect(m.get(a)).toBe(ref.get(a)); expect(m.has(a)).toBe(ref.has(a)); }
      expect(m.size).toBe(ref.size);
    }
    expect(new Map(m.entries())).toEqual(ref);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.get(pool[5]!)).toBeUndefined();
  });

  test('keys come back unsigned', () => {
    const m = new AddrMap<string>();
    m.set(ip4('203.0.113.7'), 'a');
    expect([...m.entries()]).toEqual([[ip4('203.0.113.7'), 'a']]);
  });
});
