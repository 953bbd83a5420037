/**
 * kernel/xtables_save.ts: a rule in iptables-save's spelling (iptables 1.8 print_rule4 and the
 * extensions' save functions), so a drop can name its rule exactly as `iptables-save` and
 * `iptables -S` print it. Protocol numbers print by the names iptables knows itself
 * (xtables_chain_protos); with no /etc/protocols on the host, as on the recorded hosts,
 * other protocols print as numbers (`-p 4`).
 */
import { formatIp4 } from '../net/addr';
import {
  type IptIp, type IptRule, type XtMatch, type XtTarget,
  CT_STATE_ESTABLISHED, CT_STATE_INVALID, CT_STATE_NEW, CT_STATE_RELATED, CT_STATE_UNTRACKED,
  IPT_INV_DSTIP, IPT_INV_FRAG, IPT_INV_SRCIP, IPT_INV_VIA_IN, IPT_INV_VIA_OUT, XT_INV_PROTO,
  XT_TCP_INV_DSTPT, XT_TCP_INV_FLAGS, XT_TCP_INV_SRCPT,
} from './xtables';

/** xtables_chain_protos (libxtables/xtables.c), the names iptables resolves without /etc/protocols. */
export const CHAIN_PROTOS: ReadonlyArray<readonly [string, number]> = [
  ['tcp', 6], ['sctp', 132], ['udp', 17], ['udplite', 136], ['icmp', 1], ['ipv6-icmp', 58], ['icmpv6', 58],
  ['esp', 50], ['ah', 51], ['mobility-header', 135], ['ipv6-mh', 135], ['mh', 135], ['all', 0],
];

/** proto_to_name (iptables/xshared.c). */
export function protoName(proto: number): string | null {
  for (const [n, v] of CHAIN_PROTOS) if (v === proto) return n;
  return null;
}

/** tcp_flag_names, in print_tcpf's order. */
export const TCP_FLAG_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['FIN', 0x01], ['SYN', 0x02], ['RST', 0x04], ['PSH', 0x08], ['ACK', 0x10], ['URG', 0x20], ['ALL', 0x3f], ['NONE', 0],
];

/** print_tcpf (libxt_tcp.c). */
export function tcpFlagsText(flags: number): string {
  const out: string[] = [];
  let f = flags;
  while (f) {
    let i = 0;
    while ((f & TCP_FLAG_NAMES[i][1]) === 0) i++;
    out.push(TCP_FLAG_NAMES[i][0]);
    f &= ~TCP_FLAG_NAMES[i][1];
  }
  return out.length ? out.join(',') : 'NONE';
}

/** print_state / state_print_state order (libxt_conntrack.c). */
export function ctStatesText(mask: number): string {
  const names: string[] = [];
  if (mask & CT_STATE_INVALID) names.push('INVALID');
  if (mask & CT_STATE_NEW) names.push('NEW');
  if (mask & CT_STATE_RELATED) names.push('RELATED');
  if (mask & CT_STATE_ESTABLISHED) names.push('ESTABLISHED');
  if (mask & CT_STATE_UNTRACKED) names.push('UNTRACKED');
  return names.join(',');
}

/** mask_to_str (xshared.c): a prefix length when the mask is contiguous, else dotted. */
export function maskText(mask: number): string {
  if (mask === 0xffffffff) return '32';
  for (let i = 31, bits = 0xfffffffe; i >= 0; i--, bits = (bits << 1) >>> 0) if (mask === bits) return String(i);
  return formatIp4(mask);
}

/** xtables_save_string: bare when only [_-0-9a-zA-Z], else double-quoted with \" \\ \' escaped. */
export function saveString(v: string): string {
  if (/^[_\-0-9a-zA-Z]+$/.test(v)) return ` ${v}`;
  return ` "${v.replace(/["\\']/g, c => '\\' + c)}"`;
}

function saveIface(letter: string, name: string, wild: boolean, invert: boolean): string {
  if (name === '' && !wild) return '';
  return `${invert ? ' !' : ''} -${letter} ${name}${wild ? '+' : ''}`;
}

/** The fixed part (save_ipv4_addr and save_rule_details). */
function saveIp(ip: IptIp): string {
  let s = '';
  const inv = ip.invflags;
  if (ip.smsk !== 0 || ip.src !== 0 || (inv & IPT_INV_SRCIP)) s += `${inv & IPT_INV_SRCIP ? ' !' : ''} -s ${formatIp4(ip.src)}/${maskText(ip.smsk)}`;
  if (ip.dmsk !== 0 || ip.dst !== 0 || (inv & IPT_INV_DSTIP)) s += `${inv & IPT_INV_DSTIP ? ' !' : ''} -d ${formatIp4(ip.dst)}/${maskText(ip.dmsk)}`;
  s += saveIface('i', ip.iniface, ip.inWild, (inv & IPT_INV_VIA_IN) !== 0);
  s += saveIface('o', ip.outiface, ip.outWild, (inv & IPT_INV_VIA_OUT) !== 0);
  if (ip.proto > 0) s += `${inv & XT_INV_PROTO ? ' !' : ''} -p ${protoName(ip.proto) ?? ip.proto}`;
  if (ip.frag) s += `${inv & IPT_INV_FRAG ? ' !' : ''} -f`;
  return s;
}

function savePorts(opt: string, r: readonly [number, number], invert: boolean): string {
  if (r[0] === 0 && r[1] === 0xffff) return '';
  return `${invert ? ' !' : ''} --${opt} ${r[0] === r[1] ? r[0] : `${r[0]}:${r[1]}`}`;
}

/** " -m NAME" and the extension's save function. */
export function saveMatch(m: XtMatch): string {
  switch (m.name) {
    case 'tcp': {
      let s = ' -m tcp' + savePorts('sport', m.spts, (m.invflags & XT_TCP_INV_SRCPT) !== 0) + savePorts('dport', m.dpts, (m.invflags & XT_TCP_INV_DSTPT) !== 0);
      if (m.flgMask || (m.invflags & XT_TCP_INV_FLAGS)) s += `${m.invflags & XT_TCP_INV_FLAGS ? ' !' : ''} --tcp-flags ${tcpFlagsText(m.flgMask)} ${tcpFlagsText(m.flgCmp)}`;
      return s;
    }
    case 'udp':
      return ' -m udp' + savePorts('sport', m.spts, (m.invflags & XT_TCP_INV_SRCPT) !== 0) + savePorts('dport', m.dpts, (m.invflags & XT_TCP_INV_DSTPT) !== 0);
    case 'icmp': {
      const t = m.type === 0xff ? 'any' : `${m.type}${m.codeMin !== 0 || m.codeMax !== 0xff ? `/${m.codeMin}` : ''}`;
      return ` -m icmp${m.invert ? ' !' : ''} --icmp-type ${t}`;
    }
    case 'multiport': {
      const parts: string[] = [];
      for (let i = 0; i < m.ports.length; i++) parts.push(m.pflags[i] ? `${m.ports[i]}:${m.ports[++i]}` : String(m.ports[i]));
      return ` -m multiport${m.invert ? ' !' : ''} --${m.flags} ${parts.join(',')}`;
    }
    case 'conntrack':
      return ` -m ${m.alias ? 'state' : 'conntrack'}${m.invert ? ' !' : ''} --${m.alias ? 'state' : 'ctstate'} ${ctStatesText(m.stateMask)}`;
    case 'comment':
      return ` -m comment --comment${saveString(m.comment)}`;
  }
}

/** " -j TARGET" and the target's save function. */
export function saveTarget(t: XtTarget): string {
  switch (t.kind) {
    case 'none': return '';
    case 'verdict': return ` -j ${t.verdict}`;
    case 'jump': return ` -${t.goto ? 'g' : 'j'} ${t.chain}`;
    case 'REJECT': return ` -j REJECT --reject-with ${t.with}`;
    case 'LOG': {
      let s = ' -j LOG';
      if (t.prefix !== '') s += ` --log-prefix${saveString(t.prefix)}`;
      if (t.level !== 4) s += ` --log-level ${t.level}`;
      if (t.flags & 0x01) s += ' --log-tcp-sequence';
      if (t.flags & 0x02) s += ' --log-tcp-options';
      if (t.flags & 0x04) s += ' --log-ip-options';
      if (t.flags & 0x08) s += ' --log-uid';
      if (t.flags & 0x20) s += ' --log-macdecode';
      return s;
    }
    case 'TCPMSS': return t.mss === null ? ' -j TCPMSS --clamp-mss-to-pmtu' : ` -j TCPMSS --set-mss ${t.mss}`;
    case 'CT': return t.alias ? ' -j NOTRACK' : ` -j CT${t.notrack ? ' --notrack' : ''}`;
  }
}

/** print_rule4 without counters: "-A CHAIN" and the rule as iptables-save prints it. */
export function saveRule(chain: string, r: IptRule): string {
  let s = `-A ${chain}${saveIp(r.ip)}`;
  for (const m of r.matches) s += saveMatch(m);
  return s + saveTarget(r.target);
}
