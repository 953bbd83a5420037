/**
 * daemons/keepalived/tool.ts: the `keepalived` command line (keepalived/core/main.c
 * `parse_cmdline`): `keepalived -f FILE` starts the daemon, `keepalived -t -f FILE` checks the
 * configuration and prints keepalived's own messages (exit 2, KEEPALIVED_EXIT_CONFIG, on an
 * error), `keepalived -v` prints the version. -D logs in detail, -C runs only the checker, -P only
 * VRRP; -n, -l, -G, -d and -S change forking and log destinations, which lvsim shows the same way.
 * Not modelled: -R (no respawn), -i, -p/-c/-r pid files, namespaces.
 */
import type { Tool } from '../../config/tool';
import { fail } from '../../config/tool';
import { parseKeepalivedConf } from '../../config/keepalived';
import { DEFAULT_CONF, KEEPALIVED_VERSION, startKeepalived } from './daemon';

const FLAGS = new Set(['-n', '--dont-fork', '-l', '--log-console', '-D', '--log-detail', '-G', '--no-syslog', '-C', '--check', '-d', '--dump-conf', '-x', '--snmp']);

export const keepalivedTool: Tool = (argv, ctx) => {
  let conf = DEFAULT_CONF;
  let test = false;
  let detail = false;
  let checkOnly = false;
  let vrrpOnly = false;
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i].text;
    if (w === '-f' || w === '--use-file') {
      if (!argv[i + 1]) return fail(2, "keepalived: option requires an argument -- 'f'", i, 'a configuration file path');
      conf = argv[++i].text;
    } else if (w.startsWith('--use-file=')) conf = w.slice(11);
    else if (/^-f./.test(w)) conf = w.slice(2);
    else if (w === '-t' || w === '--config-test') test = true;
    else if (w === '-v' || w === '--version') return { exit: 0, stdout: '', stderr: `${KEEPALIVED_VERSION}\n` };
    else if (w === '-S' || w === '--log-facility') i++;
    else if (/^-[nlDGCPdx]+$/.test(w) || FLAGS.has(w) || w === '--vrrp') {
      if (w === '--log-detail' || (/^-[a-zA-Z]+$/.test(w) && w.includes('D'))) detail = true;
      if (w === '--check' || (/^-[a-zA-Z]+$/.test(w) && w.includes('C'))) checkOnly = true;
      if (w === '--vrrp' || (/^-[a-zA-Z]+$/.test(w) && w.includes('P'))) vrrpOnly = true;
    }
    else return fail(2, `keepalived: unrecognized option '${w}'`, i, '-f FILE, -t, -n, -l, -D, -v');
  }
  if (test) {
    const text = ctx.files.get(conf);
    if (text === undefined) return fail(2, `Configuration file '${conf}' does not exist`, argv.length - 1, 'a file declared under the host\'s files: in the scenario');
    const { diagnostics } = parseKeepalivedConf(text, conf);
    const stderr = diagnostics.map(d => `${d.tool}\n`).join('');
    const err = diagnostics.some(d => d.severity === 'error');
    return err ? { exit: 2, stdout: '', stderr, errorAt: { word: 0, expected: `a keepalived configuration without errors (${conf}:${diagnostics[0].line})` } } : { exit: 0, stdout: '', stderr };
  }
  const r = startKeepalived(ctx.host, ctx.ipvs, ctx.files, { conf, cmdline: argv.map(a => a.text).join(' '), detail, checkOnly, vrrpOnly });
  const files = r.fileErrors.length ? { fileErrors: r.fileErrors } : {};
  return r.ok ? { exit: 0, stdout: '', stderr: r.stderr, ...files } : { exit: 1, stdout: '', stderr: r.stderr, errorAt: { word: 0, expected: 'a configuration keepalived can run (see the message above)' }, ...files };
};
