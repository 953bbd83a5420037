/**
 * ui/modes.ts: the forwarding-method switch. Runs the scenario on screen again as TUN (-i),
 * DR (-g) or NAT (-m): every ipvsadm destination line is rewritten (config/fwd_method.ts) and
 * the result loads as an edited scenario, so the same topology shows where each method works
 * and which kernel check stops it where it does not.
 */
import type { FwdMethod } from '../ipvs/types';
import { scenarioFwdMethod, withFwdMethod } from '../config/fwd_method';

const OPTIONS: ReadonlyArray<[FwdMethod | 'mixed', string]> = [
  ['tunnel', 'TUN (-i)'], ['route', 'DR (-g)'], ['masq', 'NAT (-m)'], ['mixed', 'mixed'],
];

/** Fill the select and call `load` with the switched text when the user picks a method. */
export function attachModeSwitch(select: HTMLSelectElement, currentText: () => string, load: (text: string) => void): void {
  select.innerHTML = OPTIONS.map(([v, label]) => `<option value="${v}"${v === 'mixed' ? ' disabled' : ''}>${label}</option>`).join('');
  select.addEventListener('change', () => {
    const m = select.value as FwdMethod;
    const { text, changed } = withFwdMethod(currentText(), m);
    if (changed > 0) load(text);
  });
}

/** Show the method of the scenario on screen (disabled when it has no destination). */
export function syncModeSwitch(select: HTMLSelectElement, text: string): void {
  const m = scenarioFwdMethod(text);
  select.disabled = m === null;
  select.value = m ?? 'tunnel';
}
