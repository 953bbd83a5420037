/**
 * A line diff small enough to read in a test failure: an LCS over the lines, printed as hunks
 * ("-" expected, "+" actual) with two lines of context and the line numbers of both sides.
 */
export function lineDiff(expected: string, actual: string, context = 2, maxHunks = 8): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  // Trim the common head and tail so the LCS table stays small.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  type Op = { k: ' ' | '-' | '+'; line: string; ai: number; bi: number };
  const ops: Op[] = [];
  for (let i = Math.max(0, head - context); i < head; i++) ops.push({ k: ' ', line: a[i]!, ai: i, bi: i });
  if (am.length * bm.length > 4e6) {
    // Too large for the table: show both middles whole.
    am.forEach((l, i) => ops.push({ k: '-', line: l, ai: head + i, bi: -1 }));
    bm.forEach((l, i) => ops.push({ k: '+', line: l, ai: -1, bi: head + i }));
  } else {
    const n = am.length, m = bm.length;
    const L = Array.from({ length: n + 1 }, () => new Int32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) L[i]![j] = am[i] === bm[j] ? L[i + 1]![j + 1]! + 1 : Math.max(L[i + 1]![j]!, L[i]![j + 1]!);
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) { ops.push({ k: ' ', line: am[i]!, ai: head + i, bi: head + j }); i++; j++; }
      else if (j < m && (i === n || L[i]![j + 1]! >= L[i + 1]![j]!)) { ops.push({ k: '+', line: bm[j]!, ai: -1, bi: head + j }); j++; }
      else { ops.push({ k: '-', line: am[i]!, ai: head + i, bi: -1 }); i++; }
    }
  }
  for (let i = a.length - tail; i < Math.min(a.length, a.length - tail + context); i++) ops.push({ k: ' ', line: a[i]!, ai: i, bi: i - a.length + b.length });
  // Keep changed lines and `context` lines around them.
  const keep = ops.map(() => false);
  ops.forEach((o, i) => { if (o.k !== ' ') for (let d = -context; d <= context; d++) if (ops[i + d]) keep[i + d] = true; });
  const out: string[] = [];
  let hunks = 0;
  for (let i = 0; i < ops.length; i++) {
    if (!keep[i]) continue;
    if (i === 0 || !keep[i - 1]) {
      if (++hunks > maxHunks) { out.push('... more differences'); break; }
      const o = ops[i]!;
      out.push(`@@ expected line ${o.ai >= 0 ? o.ai + 1 : '?'}, actual line ${o.bi >= 0 ? o.bi + 1 : '?'} @@`);
    }
    out.push(`${ops[i]!.k} ${ops[i]!.line}`);
  }
  return out.join('\n');
}
