/**
 * `< FILE` input redirection: bash opens a file of the host's `files:` as the command's stdin
 * (iptables-restore < /etc/sysconfig/iptables, ipvsadm-restore < /etc/sysconfig/ipvsadm), and
 * a refused line of that file is reported at its own line in the scenario.
 */
import { describe, expect, it } from 'vitest';
import { splitLine } from '../../src/config/shell';
import { isReadOnly } from '../../src/config/commands';
import { runScenarioText } from '../../src/world/world';
import { makeHost, sh } from './helpers';

const SAVED = [
  '-A -t 172.16.29.6:9001 -s wrr',
  '-a -t 172.16.29.6:9001 -r 172.16.197.3:9001 -i -w 1',
  '-a -t 172.16.29.6:9001 -r 192.168.134.5:9001 -i -w 2',
].join('\n') + '\n';

const RULES = '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -p tcp --dport 22 -j ACCEPT\nCOMMIT\n';

/** A one-host scenario with one declared file and a setup block. */
const scenario = (path: string, body: string, setup: string): string =>
  `hosts:\n  h:\n    files:\n      ${path}: |\n${body.split('\n').filter(l => l !== '').map(l => '        ' + l).join('\n')}\n` +
  `    setup: |\n${setup.split('\n').map(l => '      ' + l).join('\n')}\nlinks:\n  - { name: lan, ends: [h:eth0] }\n`;

const underlined = (text: string, d: { line: number; col: number; endCol: number }): string =>
  text.split('\n')[d.line - 1]!.slice(d.col - 1, d.endCol - 1);

describe('shell: < FILE', () => {
  it('splits `cmd < FILE` into the command and its input, with the file word at its column', () => {
    const s = splitLine('ipvsadm -R < /etc/sysconfig/ipvsadm');
    expect(s.ok && s.commands[0]).toMatchObject({ words: [{ text: 'ipvsadm' }, { text: '-R' }], redirect: { op: '<', target: { text: '/etc/sysconfig/ipvsadm', col: 14 } } });
    const t = splitLine('iptables-restore</etc/sysconfig/iptables');
    expect(t.ok && t.commands[0]!.redirect).toMatchObject({ op: '<', target: { text: '/etc/sysconfig/iptables' } });
  });

  it('still refuses here-documents, here-strings and process substitution', () => {
    for (const [line, found] of [['cat <<EOF', '<<'], ['cat <<< x', '<<<'], ['diff <(ip r) x', '<(']] as const) {
      const s = splitLine(line);
      expect(s.ok).toBe(false);
      expect(!s.ok && s.found).toBe(found);
    }
  });

  it('refuses a second redirection on the same command', () => {
    const s = splitLine('iptables-restore < a > b');
    expect(s.ok).toBe(false);
    expect(!s.ok && s.expected).toMatch(/one redirection per command/);
  });

  it('a missing input file gets bash\'s message, at the file word', () => {
    const { ctx } = makeHost('h');
    const r = sh(ctx, 'iptables-restore < /etc/sysconfig/iptables');
    expect(r.exit).toBe(1);
    expect(r.stderr).toBe('bash: /etc/sysconfig/iptables: No such file or directory\n');
    expect(r.errorAt!.word).toBe(1);
  });

  it('cat < FILE prints the file and is read-only; ipvsadm -R < FILE is not', () => {
    const { ctx } = makeHost('h', ['eth0'], { '/etc/sysconfig/ipvsadm': SAVED });
    expect(sh(ctx, 'cat < /etc/sysconfig/ipvsadm').stdout).toBe(SAVED);
    const rd = (l: string): boolean => { const s = splitLine(l); return s.ok && isReadOnly(s.commands[0]!); };
    expect(rd('cat < /etc/sysconfig/ipvsadm')).toBe(true);
    expect(rd('ipvsadm -R < /etc/sysconfig/ipvsadm')).toBe(false);
  });
});

describe('restoring saved tables from a file', () => {
  for (const line of ['ipvsadm-restore < /etc/sysconfig/ipvsadm', 'ipvsadm -R < /etc/sysconfig/ipvsadm', 'sudo ipvsadm-restore < /etc/sysconfig/ipvsadm']) {
    it(`${line} loads the saved services and destinations`, () => {
      const run = runScenarioText(scenario('/etc/sysconfig/ipvsadm', SAVED, line), 's.yaml');
      expect(run.diagnostics).toEqual([]);
      const out = run.world.exec('h', 'ipvsadm -Ln').stdout;
      expect(out).toMatch(/TCP {2}172\.16\.29\.6:9001 wrr/);
      expect(out).toMatch(/192\.168\.134\.5:9001 +Tunnel +2/);
    });
  }

  it('iptables-restore < /etc/sysconfig/iptables loads the rules', () => {
    const run = runScenarioText(scenario('/etc/sysconfig/iptables', RULES, 'iptables-restore < /etc/sysconfig/iptables'), 's.yaml');
    expect(run.diagnostics).toEqual([]);
    expect(run.world.exec('h', 'iptables -S INPUT').stdout).toContain('-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT');
  });

  it('ipvsadm-restore without input says what it expected instead of restoring nothing', () => {
    const text = scenario('/etc/sysconfig/ipvsadm', SAVED, 'ipvsadm-restore');
    const [d, ...rest] = runScenarioText(text, 's.yaml').diagnostics;
    expect(rest).toEqual([]);
    expect(d).toMatchObject({ severity: 'error', found: 'ipvsadm-restore', tool: expect.stringMatching(/reads the rules from standard input/) });
    expect(d!.expected).toMatch(/ipvsadm-restore < \/etc\/sysconfig\/ipvsadm/);
    const { ctx } = makeHost('h');
    expect(sh(ctx, 'ipvsadm -R').exit).not.toBe(0);
  });

  it('a missing input file is an error at the file name, in bash\'s words', () => {
    const text = scenario('/etc/sysconfig/ipvsadm', SAVED, 'ipvsadm-restore < /etc/sysconfig/ipvsadm.save');
    const [d] = runScenarioText(text, 's.yaml').diagnostics;
    expect(d).toMatchObject({ severity: 'error', tool: 'bash: /etc/sysconfig/ipvsadm.save: No such file or directory' });
    expect(underlined(text, d!)).toBe('/etc/sysconfig/ipvsadm.save');
  });

  for (const setup of ['ipvsadm-restore < /etc/sysconfig/ipvsadm', 'systemctl restart ipvsadm']) {
    it(`${setup}: a bad saved line is reported at its line of the files: block`, () => {
      const bad = SAVED.replace('-i -w 2', '-i -w 2 -q');
      const text = scenario('/etc/sysconfig/ipvsadm', bad, setup);
      const [d] = runScenarioText(text, 's.yaml').diagnostics;
      expect(d).toMatchObject({ severity: 'error', line: 7, found: '-q', tool: expect.stringContaining('-q: unknown option') });
      expect(underlined(text, d!)).toBe('-q');
    });
  }

  for (const setup of ['iptables-restore < /etc/sysconfig/iptables', 'iptables-restore /etc/sysconfig/iptables', 'systemctl restart iptables']) {
    it(`${setup}: a refused rule is reported at its line of the files: block`, () => {
      const bad = RULES.replace('--dport 22', '--dprot 22');
      const text = scenario('/etc/sysconfig/iptables', bad, setup);
      const [d] = runScenarioText(text, 's.yaml').diagnostics;
      expect(d).toMatchObject({ severity: 'error', line: 9 });
      expect(underlined(text, d!)).toBe('-A INPUT -p tcp --dprot 22 -j ACCEPT');
    });
  }
});
