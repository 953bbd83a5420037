/**
 * ui/console.ts: a shell on any host at the player's position. The commands users reach for
 * (ipvsadm -Ln/-Lnc, ip route get, ip neigh, nstat, sysctl, iptables -L, conntrack -L, tcpdump)
 * answer from the kernel state of that moment: the run replayed to the player's time
 * (world/console.ts). History with the arrow keys, completion with Tab. Everything is written
 * as text nodes: nothing typed or printed is ever parsed as HTML.
 */
import { HostConsole, completeLine } from '../world/console';

export interface ConsoleContext {
  readonly text: string;
  readonly file: string;
  readonly seed: number;
  readonly hosts: readonly string[];
  /** The player's virtual time, in ns. */
  readonly atNs: number;
  /** How the views write a time ("12.400 ms"). */
  readonly fmtTime: (ns: number) => string;
}

export interface ConsoleView {
  setContext(ctx: ConsoleContext): void;
  focus(): void;
}

export function createConsole(root: HTMLElement): ConsoleView {
  root.replaceChildren();
  const bar = el('div', 'console-bar');
  const hostSel = document.createElement('select');
  hostSel.setAttribute('aria-label', 'Host');
  const at = el('span', 'console-at');
  bar.append(label('Host ', hostSel), at);
  const out = el('pre', 'console-out');
  out.setAttribute('aria-live', 'polite');
  out.tabIndex = 0;
  const form = document.createElement('form');
  form.className = 'console-line';
  const prompt = el('span', 'console-prompt');
  const input = document.createElement('input');
  input.type = 'text';
  input.spellcheck = false;
  input.autocomplete = 'off';
  input.setAttribute('aria-label', 'Command');
  input.placeholder = 'ipvsadm -Lnc   (Tab completes, ↑ history)';
  form.append(prompt, input);
  const hint = el('p', 'console-hint');
  hint.textContent = 'Read-only commands, answered from the state at the player\'s position: ipvsadm -Ln / -Lnc / --stats, ip addr, ip route, ip route get ADDR, ip neigh, nstat -az, sysctl KEY, iptables -L -v -n, conntrack -L, tcpdump -n -i DEV, dmesg, journalctl -u keepalived.';
  root.append(bar, out, form, hint);

  let ctx: ConsoleContext | null = null;
  let shell: HostConsole | null = null;
  const history: string[] = [];
  let histPos = 0;

  const setPrompt = () => { prompt.textContent = `${hostSel.value || 'host'}# `; };
  hostSel.addEventListener('change', () => { setPrompt(); input.focus(); });

  function print(text: string, cls?: string): void {
    const span = el('span', cls);
    span.textContent = text.endsWith('\n') || text === '' ? text : text + '\n';
    out.append(span);
    // Keep the scrollback bounded: the oldest output goes first.
    while (out.childNodes.length > 400) out.firstChild!.remove();
    out.scrollTop = out.scrollHeight;
  }

  function run(line: string): void {
    if (!ctx || !shell) return;
    print(`[${ctx.fmtTime(ctx.atNs)}] ${hostSel.value}# ${line}`, 'console-cmd');
    if (line.trim() === 'clear') { out.replaceChildren(); return; }
    const r = shell.exec(hostSel.value, line, ctx.atNs);
    if (r.stdout) print(r.stdout);
    if (r.stderr) print(r.stderr, 'console-err');
    if (!r.stdout && !r.stderr && r.exit !== 0) print(`exit ${r.exit}`, 'console-err');
  }

  form.addEventListener('submit', e => {
    e.preventDefault();
    const line = input.value;
    input.value = '';
    if (line.trim() && history[history.length - 1] !== line) history.push(line);
    histPos = history.length;
    run(line);
  });

  input.addEventListener('keydown', e => {
    // Keys typed here are the console's, not the player's shortcuts.
    e.stopPropagation();
    if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
      e.preventDefault();
      histPos = Math.max(0, Math.min(history.length, histPos + (e.key === 'ArrowUp' ? -1 : 1)));
      input.value = history[histPos] ?? '';
    } else if (e.key === 'Tab') {
      e.preventDefault();
      const options = completeLine(input.value);
      if (options.length === 1) input.value = options[0]!;
      else if (options.length > 1) {
        input.value = commonPrefix(options, input.value);
        print(options.join('   '), 'console-hint-line');
      }
    } else if (e.key === 'Escape') {
      input.blur();
    }
  });

  return {
    setContext(next: ConsoleContext): void {
      if (!ctx || ctx.text !== next.text || ctx.file !== next.file || ctx.seed !== next.seed) {
        shell = new HostConsole(next.text, next.file, next.seed);
        const keep = hostSel.value;
        hostSel.replaceChildren(...next.hosts.map(h => { const o = document.createElement('option'); o.value = h; o.textContent = h; return o; }));
        hostSel.value = next.hosts.includes(keep) ? keep : next.hosts.find(h => /director/.test(h)) ?? next.hosts[0] ?? '';
        setPrompt();
      }
      ctx = next;
      at.textContent = `at ${next.fmtTime(next.atNs)} (the player's position)`;
    },
    focus(): void { input.focus(); },
  };
}

function el(tag: string, cls?: string): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  return e;
}

function label(text: string, control: HTMLElement): HTMLElement {
  const l = document.createElement('label');
  l.append(text, control);
  return l;
}

function commonPrefix(xs: readonly string[], typed: string): string {
  let p = xs[0]!;
  for (const x of xs) while (!x.startsWith(p)) p = p.slice(0, -1);
  return p.length > typed.length ? p : typed;
}
