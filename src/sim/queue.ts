/**
 * sim/queue.ts: a binary min-heap keyed by (time, insertion sequence). Keys and sequence
 * numbers live in flat arrays beside the items so comparisons touch no objects.
 */
export class EventQueue<T> {
  private keys: number[] = [];
  private seqs: number[] = [];
  private items: T[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  peekKey(): number {
    return this.keys[0];
  }

  push(key: number, item: T): void {
    const keys = this.keys, seqs = this.seqs, items = this.items;
    const seq = this.nextSeq++;
    let i = items.length;
    keys.push(key); seqs.push(seq); items.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] < key || (keys[p] === key && seqs[p] < seq)) break;
      keys[i] = keys[p]; seqs[i] = seqs[p]; items[i] = items[p];
      i = p;
    }
    keys[i] = key; seqs[i] = seq; items[i] = item;
  }

  pop(): T | undefined {
    const keys = this.keys, seqs = this.seqs, items = this.items;
    const n = items.length;
    if (n === 0) return undefined;
    const top = items[0];
    const key = keys[n - 1], seq = seqs[n - 1], item = items[n - 1];
    keys.pop(); seqs.pop(); items.pop();
    const m = n - 1;
    if (m > 0) {
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= m) break;
        const r = c + 1;
        if (r < m && (keys[r] < keys[c] || (keys[r] === keys[c] && seqs[r] < seqs[c]))) c = r;
        if (key < keys[c] || (key === keys[c] && seq < seqs[c])) break;
        keys[i] = keys[c]; seqs[i] = seqs[c]; items[i] = items[c];
        i = c;
      }
      keys[i] = key; seqs[i] = seq; items[i] = item;
    }
    return top;
  }
}
