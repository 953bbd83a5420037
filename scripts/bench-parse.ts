/**
 * Benchmark: the scenario reader on the worst texts of each kind under 1 MB (the fuzz
 * reproductions and the limits of src/config/yaml.ts). Prints the time to load or refuse each,
 * and how many diagnostics it gave; asserts nothing (the target: well under a second each).
 */
import { parseScenario } from '../src/config/scenario';
import { parseWorkload } from '../src/workload/spec';

const MB = 1 << 20;
const cases: Array<[string, string]> = [
  ['31 nested {', '{'.repeat(31)],
  ['1 MB of {', '{'.repeat(MB - 1)],
  ['1 MB of [ then ]', '['.repeat(MB / 2 - 1) + ']'.repeat(MB / 2 - 1)],
  ['deep "- - -" list', '- '.repeat(MB / 2 - 1)],
  ['2000 lines, each indented one more', Array.from({ length: 1400 }, (_, i) => ' '.repeat(i) + 'a:').join('\n')],
  ['4,999 keys', Array.from({ length: 4_999 }, (_, i) => `k${i}: 1`).join('\n')],
  ['4,999 flow items', 'a: [' + 'x,'.repeat(4_998) + 'x]'],
  ['1 MB of one repeated key', 'a: b\n'.repeat(MB / 5 - 1)],
  ['a setup block of 25,000 lines', 'hosts:\n  h:\n    setup: |\n' + '      sysctl -w net.ipv4.ip_forward=1\n'.repeat(25_000)],
];
console.log(`${'input'.padEnd(36)} ${'bytes'.padStart(9)} ${'ms'.padStart(8)} diagnostics`);
for (const [name, text] of cases) {
  const t0 = performance.now();
  const d = parseScenario(text, 'b.yaml').diagnostics.length + parseWorkload(text, 'b.yaml').diagnostics.length;
  const ms = performance.now() - t0;
  console.log(`${name.padEnd(36)} ${String(text.length).padStart(9)} ${ms.toFixed(1).padStart(8)} ${d}`);
}
