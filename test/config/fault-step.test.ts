/**
 * The `fault:` traffic step: what it accepts (a host crashes, boots or reboots; a service stops
 * or starts; a link or one host's cable loses carrier) and each mistake at file:line:column with
 * what was found, what was expected and a suggestion for a near miss. Adding a fault to a
 * scenario's text (the browser's faults panel) keeps every other line and puts the step in time order.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, type FaultSpec } from '../../src/config/scenario';
import { faultStepText, formatAt, insertTrafficStep } from '../../src/config/scenario_edit';

const REF = readFileSync('scenarios/keepalived-rs-down.yaml', 'utf8');
/** The reference keepalived scenario with its traffic: replaced by `steps` (one per line, from line `base`). */
function withSteps(steps: string[]): { text: string; base: number } {
  const head = REF.slice(0, REF.indexOf('\ntraffic:') + 1);
  const base = head.split('\n').length + 1;
  return { text: `${head}traffic:\n${steps.map(s => `  - ${s}`).join('\n')}\n`, base };
}

describe('fault: steps', () => {
  it('reads each kind with its target and time', () => {
    const { text } = withSteps([
      '{ fault: crash, host: director, at: 5s }',
      '{ fault: boot, host: director, at: 9s }',
      '{ fault: reboot, host: rs1 }',
      '{ fault: service-stop, host: rs2, service: rs2d, at: 10s }',
      '{ fault: service-start, host: rs2, service: RS2, at: 12s }',
      '{ fault: service-stop, host: director, service: keepalived, at: 13s }',
      '{ fault: link-down, link: rs1-lan, at: 14s }',
      '{ fault: link-up, host: rs1, dev: eth0, at: 15.5s }',
    ]);
    const { scenario, diagnostics } = parseScenario(text, 'f.yaml');
    expect(diagnostics).toEqual([]);
    const f = scenario.traffic as FaultSpec[];
    expect(f.map(s => [s.fault, s.host, s.service ?? s.link ?? s.dev ?? null, s.atNs])).toEqual([
      ['crash', 'director', null, 5e9], ['boot', 'director', null, 9e9], ['reboot', 'rs1', null, null],
      ['service-stop', 'rs2', 'rs2d', 10e9], ['service-start', 'rs2', 'RS2', 12e9], ['service-stop', 'director', 'keepalived', 13e9],
      ['link-down', null, 'rs1-lan', 14e9], ['link-up', 'rs1', 'eth0', 15.5e9],
    ]);
  });

  /** [what, the step, the text the diagnostic points at (its first occurrence in the step), what was found, what is expected] */
  const cases: Array<[string, string, string, string, RegExp]> = [
    ['a misspelt kind, with a suggestion', '{ fault: crsh, host: rs1, at: 1s }', 'crsh', 'crsh', /a fault: crash, boot, reboot, service-stop, service-start, link-down, link-up \(did you mean 'crash'\?\)/],
    ['a host that is not declared', '{ fault: crash, host: rs3, at: 1s }', 'rs3', 'rs3', /host: a host declared under hosts: \(did you mean 'rs1'\?\)/],
    ['no host', '{ fault: boot, at: 1s }', '{', 'no host:', /host: a host declared under hosts:/],
    ['a service the host does not run', '{ fault: service-stop, host: rs2, service: rs2, at: 1s }', 'rs2, at', 'rs2', /service: one of rs2's services \(rs2d, keepalived|service: one of rs2's services \(rs2d, RS2\) \(did you mean/],
    ['keepalived on a host without a keepalived.conf', '{ fault: service-stop, host: rs1, service: keepalived, at: 1s }', 'keepalived', 'keepalived', /one of rs1's services \(RS1\)/],
    ['a link that is not declared', '{ fault: link-down, link: rs1-lann, at: 1s }', 'rs1-lann', 'rs1-lann', /link: a link declared under links: \(did you mean 'rs1-lan'\?\)/],
    ['a device that is on no link', '{ fault: link-down, host: rs1, dev: eth1, at: 1s }', 'eth1', 'eth1', /dev: a device of rs1 on a link \(eth0\) \(did you mean 'eth0'\?\)/],
    ['a link and a host together', '{ fault: link-up, link: rs1-lan, host: rs1, at: 1s }', 'rs1, at', 'rs1', /link: NAME alone/],
    ['a link fault without a target', '{ fault: link-down, at: 1s }', 'link-down', 'link-down', /with link: NAME, or with host: and dev:/],
    ['a key the kind does not take', '{ fault: crash, host: rs1, service: RS1, at: 1s }', 'service', 'service', /one of the crash step keys: fault, host, at/],
    ['a bad time', '{ fault: crash, host: rs1, at: 1sec }', '1sec', '1sec', /a time such as 0ms, 1.5s/],
  ];
  for (const [what, step, where, found, expected] of cases) {
    it(`reports ${what} at its line and column`, () => {
      const { text, base } = withSteps(['{ id: c1, connect: 172.16.29.6:9001, from: client }', step]);
      const { scenario, diagnostics } = parseScenario(text, 'f.yaml');
      expect(diagnostics).toHaveLength(1);
      const d = diagnostics[0]!;
      expect([d.line, d.col, d.found]).toEqual([base + 1, 5 + step.indexOf(where), found]);
      expect(d.expected).toMatch(expected);
      // The rest of the traffic still loads (a step with a key too many loads too, as every step does).
      expect(scenario.traffic.map(s => s.kind)).toEqual(found === 'service' ? ['connect', 'fault'] : ['connect']);
    });
  }
});

describe('adding a fault to a scenario text', () => {
  it('writes the step as it would be typed, with an exact time', () => {
    expect(faultStepText({ fault: 'crash', host: 'rs1', atNs: 5_664_062_000 })).toBe('{ fault: crash, host: rs1, at: 5.664062s }');
    expect(faultStepText({ fault: 'link-down', link: 'rs1-lan', atNs: 0 })).toBe('{ fault: link-down, link: rs1-lan, at: 0s }');
    expect(faultStepText({ fault: 'service-stop', host: 'rs2', service: 'rs2d', atNs: 12e9 })).toBe('{ fault: service-stop, host: rs2, service: rs2d, at: 12s }');
    expect(formatAt(1)).toBe('1ns');
    expect(formatAt(123_456_789_012)).toBe('123.456789012s');
  });

  it('puts it before the first later timed step, keeping every other line', () => {
    const { text: t0 } = withSteps(['{ id: c1, connect: 172.16.29.6:9001, from: client, at: 1s }', '{ exec: ipvsadm -Ln, host: director, at: 9s }']);
    const text = t0.replace('  - { exec:', '  # a comment\n  - { exec:');
    const out = insertTrafficStep(text, '{ fault: crash, host: rs1, at: 5s }', 5e9);
    expect(out.replace('  - { fault: crash, host: rs1, at: 5s }\n', '')).toBe(text);
    expect(out).toContain('at: 1s }\n  # a comment\n  - { fault: crash, host: rs1, at: 5s }\n  - { exec: ipvsadm -Ln');
    const parsed = parseScenario(out, 'f.yaml');
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.scenario.traffic.map(s => s.kind)).toEqual(['connect', 'fault', 'exec']);
  });

  it('appends after the last step, to a flow list, and adds traffic: when there is none', () => {
    const { text } = withSteps(['{ id: c1, connect: 172.16.29.6:9001, from: client, at: 1s }']);
    expect(insertTrafficStep(text, '{ fault: boot, host: rs1, at: 3s }', 3e9)).toBe(`${text}  - { fault: boot, host: rs1, at: 3s }\n`);
    expect(insertTrafficStep('hosts: {a: {}}\ntraffic: [ { exec: x, host: a, at: 2s } ]\n', '{ fault: crash, host: a, at: 1s }', 1e9))
      .toBe('hosts: {a: {}}\ntraffic: [ { fault: crash, host: a, at: 1s }, { exec: x, host: a, at: 2s } ]\n');
    expect(insertTrafficStep('hosts: {a: {}}', '{ fault: crash, host: a, at: 1s }', 1e9)).toBe('hosts: {a: {}}\ntraffic:\n  - { fault: crash, host: a, at: 1s }\n');
  });
});
