/**
 * config/nstat.ts: the host's SNMP counters as iproute2's `nstat` and net-tools'
 * `netstat -s` print them. Names follow /proc/net/snmp and /proc/net/netstat with the
 * section prefix (IpInReceives, TcpExtIPReversePathFilter), in the kernel's order
 * (net/ipv4/proc.c). IcmpMsg{In,Out}TypeN are derived from the per-type Icmp counters, as the
 * kernel bumps both. nstat without -a prints increments since its previous run (its history
 * file, kept per host here); -z includes zeros; rates are always 0.0 (no time averaging).
 * Not modelled: nstat's daemon mode and -j; IPv6 (Ip6, Icmp6, Udp6) sections; the full
 * TcpExt list (only the counters below, plus any the model moves).
 */
import type { Host } from '../kernel/host';
import type { Tool } from './tool';
import { globMatch } from './ip';

const IP = ['InReceives', 'InHdrErrors', 'InAddrErrors', 'ForwDatagrams', 'InUnknownProtos', 'InDiscards', 'InDelivers', 'OutRequests',
  'OutDiscards', 'OutNoRoutes', 'ReasmTimeout', 'ReasmReqds', 'ReasmOKs', 'ReasmFails', 'FragOKs', 'FragFails', 'FragCreates'];
const ICMP = ['InMsgs', 'InErrors', 'InCsumErrors', 'InDestUnreachs', 'InTimeExcds', 'InParmProbs', 'InSrcQuenchs', 'InRedirects', 'InEchos',
  'InEchoReps', 'InTimestamps', 'InTimestampReps', 'InAddrMasks', 'InAddrMaskReps', 'OutMsgs', 'OutErrors', 'OutDestUnreachs', 'OutTimeExcds',
  'OutParmProbs', 'OutSrcQuenchs', 'OutRedirects', 'OutEchos', 'OutEchoReps', 'OutTimestamps', 'OutTimestampReps', 'OutAddrMasks', 'OutAddrMaskReps'];
const TCP = ['ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'InSegs', 'OutSegs', 'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors'];
const UDP = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors', 'InCsumErrors', 'IgnoredMulti', 'MemErrors'];
const TCPEXT = ['SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'EmbryonicRsts', 'PruneCalled', 'RcvPruned', 'OfoPruned', 'OutOfWindowIcmps',
  'LockDroppedIcmps', 'ArpFilter', 'TW', 'TWRecycled', 'TWKilled', 'PAWSActive', 'PAWSEstab', 'DelayedACKs', 'DelayedACKLocked', 'DelayedACKLost',
  'ListenOverflows', 'ListenDrops', 'TCPHPHits', 'TCPPureAcks', 'TCPHPAcks', 'TCPRenoRecovery', 'TCPSackRecovery', 'TCPSACKReneging',
  'TCPSACKReorder', 'TCPRenoReorder', 'TCPTSReorder', 'TCPFullUndo', 'TCPPartialUndo', 'TCPDSACKUndo', 'TCPLossUndo', 'TCPLostRetransmit',
  'TCPRenoFailures', 'TCPSackFailures', 'TCPLossFailures', 'TCPFastRetrans', 'TCPSlowStartRetrans', 'TCPTimeouts', 'TCPLossProbes',
  'TCPLossProbeRecovery', 'TCPRenoRecoveryFail', 'TCPSackRecoveryFail', 'TCPRcvCollapsed', 'TCPDSACKOldSent', 'TCPDSACKOfoSent',
  'TCPDSACKRecv', 'TCPDSACKOfoRecv', 'TCPAbortOnData', 'TCPAbortOnClose', 'TCPAbortOnMemory', 'TCPAbortOnTimeout', 'TCPAbortOnLinger',
  'TCPAbortFailed', 'TCPMemoryPressures', 'TCPMemoryPressuresChrono', 'TCPSACKDiscard', 'TCPDSACKIgnoredOld', 'TCPDSACKIgnoredNoUndo',
  'TCPSpuriousRTOs', 'TCPMD5NotFound', 'TCPMD5Unexpected', 'TCPMD5Failure', 'TCPSackShifted', 'TCPSackMerged', 'TCPSackShiftFallback',
  'TCPBacklogDrop', 'PFMemallocDrop', 'TCPMinTTLDrop', 'TCPDeferAcceptDrop', 'IPReversePathFilter', 'TCPTimeWaitOverflow',
  'TCPReqQFullDoCookies', 'TCPReqQFullDrop', 'TCPRetransFail', 'TCPRcvCoalesce', 'TCPOFOQueue', 'TCPOFODrop', 'TCPOFOMerge',
  'TCPChallengeACK', 'TCPSYNChallenge', 'TCPFastOpenActive', 'TCPFastOpenActiveFail', 'TCPFastOpenPassive', 'TCPFastOpenPassiveFail',
  'TCPFastOpenListenOverflow', 'TCPFastOpenCookieReqd', 'TCPFastOpenBlackhole', 'TCPSpuriousRtxHostQueues', 'BusyPollRxPackets',
  'TCPAutoCorking', 'TCPFromZeroWindowAdv', 'TCPToZeroWindowAdv', 'TCPWantZeroWindowAdv', 'TCPSynRetrans', 'TCPOrigDataSent',
  'TCPHystartTrainDetect', 'TCPHystartTrainCwnd', 'TCPHystartDelayDetect', 'TCPHystartDelayCwnd', 'TCPACKSkippedSynRecv',
  'TCPACKSkippedPAWS', 'TCPACKSkippedSeq', 'TCPACKSkippedFinWait2', 'TCPACKSkippedTimeWait', 'TCPACKSkippedChallenge', 'TCPWinProbe',
  'TCPKeepAlive', 'TCPMTUPFail', 'TCPMTUPSuccess', 'TCPDelivered', 'TCPDeliveredCE', 'TCPAckCompressed', 'TCPZeroWindowDrop',
  'TCPRcvQDrop', 'TCPWqueueTooBig', 'TCPFastOpenPassiveAltKey', 'TcpTimeoutRehash', 'TcpDuplicateDataRehash', 'TCPDSACKRecvSegs',
  'TCPDSACKIgnoredDubious', 'TCPMigrateReqSuccess', 'TCPMigrateReqFailure', 'TCPPLBRehash'];
const IPEXT = ['InNoRoutes', 'InTruncatedPkts', 'InMcastPkts', 'OutMcastPkts', 'InBcastPkts', 'OutBcastPkts', 'InOctets', 'OutOctets',
  'InMcastOctets', 'OutMcastOctets', 'InBcastOctets', 'OutBcastOctets', 'InCsumErrors', 'InNoECTPkts', 'InECT1Pkts', 'InECT0Pkts',
  'InCEPkts', 'ReasmOverlaps'];

const SECTIONS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['Ip', IP], ['Icmp', ICMP], ['IcmpMsg', []], ['Tcp', TCP], ['Udp', UDP], ['UdpLite', UDP], ['TcpExt', TCPEXT], ['IpExt', IPEXT],
];

/** nstat's useless_numbers: gauges and constants it never prints. */
const USELESS = new Set(['IpForwarding', 'IpDefaultTTL', 'TcpRtoAlgorithm', 'TcpRtoMin', 'TcpRtoMax', 'TcpMaxConn', 'TcpCurrEstab']);

const ICMP_TYPES: Record<string, number> = { DestUnreachs: 3, TimeExcds: 11, ParmProbs: 12, SrcQuenchs: 4, Redirects: 5, Echos: 8, EchoReps: 0, Timestamps: 13, TimestampReps: 14, AddrMasks: 17, AddrMaskReps: 18 };

/** Every counter in kernel order: [name, value]. With `zeros`, the standard lists in full. */
export function snmpCounters(host: Host, zeros: boolean): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const seen = new Set<string>();
  const v = (n: string): number => host.snmp.get(n) ?? 0;
  for (const [sec, names] of SECTIONS) {
    const items: string[] = [];
    if (sec === 'IcmpMsg') {
      for (const dir of ['In', 'Out']) {
        const types: Array<[number, number]> = [];
        for (const [k, t] of Object.entries(ICMP_TYPES)) { const n = v(`Icmp${dir}${k}`); if (n) types.push([t, n]); }
        types.sort((a, b) => a[0] - b[0]);
        for (const [t, n] of types) { out.push([`IcmpMsg${dir}Type${t}`, n]); seen.add(`IcmpMsg${dir}Type${t}`); }
      }
      for (const k of host.snmp.keys()) if (k.startsWith('IcmpMsg') && !seen.has(k)) { out.push([k, v(k)]); seen.add(k); }
      continue;
    }
    for (const n of names) items.push(sec + n);
    const prefixLen = sec.length;
    // Counters the model moves that the list above lacks, in name order after the list.
    const extra = [...host.snmp.keys()].filter(k => k.startsWith(sec) && !items.includes(k) && !SECTIONS.some(([s]) => s.length > prefixLen && s.startsWith(sec) && k.startsWith(s)) && /^[A-Z]/.test(k.slice(prefixLen)));
    for (const k of [...items, ...extra.sort()]) {
      if (seen.has(k) || USELESS.has(k)) continue;
      seen.add(k);
      const n = v(k);
      if (n || zeros) out.push([k, n]);
    }
  }
  for (const [k, n] of host.snmp) if (!seen.has(k) && !USELESS.has(k) && n) out.push([k, n]);
  return out;
}

const history = new WeakMap<Host, Map<string, number>>();

export const nstat: Tool = (argv, ctx) => {
  let absolute = false, zeros = false, reset = false, noUpdate = false;
  const patterns: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const w = argv[i].text;
    if (w.startsWith('--')) {
      if (w === '--ignore') absolute = true;
      else if (w === '--zeros') zeros = true;
      else if (w === '--reset') reset = true;
      else if (w === '--noupdate') noUpdate = true;
      else if (w === '--help') return { exit: 0, stdout: 'Usage: nstat [OPTION] [ PATTERN [ PATTERN ] ]\n', stderr: '' };
      else return { exit: 255, stdout: '', stderr: `nstat: unrecognized option '${w}'\nUsage: nstat [OPTION] [ PATTERN [ PATTERN ] ]\n`, errorAt: { word: i, expected: 'an option such as -a, -z, -r' } };
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      for (const c of w.slice(1)) {
        if (c === 'a') absolute = true;
        else if (c === 'z') zeros = true;
        else if (c === 'r') reset = true;
        else if (c === 'n') noUpdate = true;
        else if (c === 's') noUpdate = true;
        else if (c === 'V') return { exit: 0, stdout: 'nstat utility, iproute2-6.1.0\n', stderr: '' };
        else if (c === 'p' || c === 'e') { /* pretty / errors: same output here */ }
        else if (c === 'j') return { exit: 1, stdout: '', stderr: 'lvsim: nstat -j is not modelled\n', errorAt: { word: i, expected: 'nstat -az' } };
        else if (c === 'd' || c === 't') return { exit: 1, stdout: '', stderr: 'lvsim: nstat daemon mode is not modelled\n', errorAt: { word: i, expected: 'nstat -az' } };
        else return { exit: 255, stdout: '', stderr: `nstat: invalid option -- '${c}'\nUsage: nstat [OPTION] [ PATTERN [ PATTERN ] ]\n`, errorAt: { word: i, expected: 'an option such as -a, -z, -r' } };
      }
      continue;
    }
    patterns.push(w);
  }
  const host = ctx.host;
  const prev = history.get(host) ?? new Map<string, number>();
  const now = snmpCounters(host, true);
  let out = '#kernel\n';
  for (const [name, value] of now) {
    if (patterns.length && !patterns.some(p => globMatch(p, name))) continue;
    const shown = absolute || reset ? value : value - (prev.get(name) ?? 0);
    if (!shown && !zeros) continue;
    out += `${name.padEnd(32)}${String(shown).padEnd(16)}${'0.0'.padStart(6)}\n`;
  }
  if (!noUpdate) history.set(host, new Map(now));
  return { exit: 0, stdout: out, stderr: '' };
};

// ---------------------------------------------------------------------------------------
// netstat -s (net-tools statistics.c)

type Entry = [name: string, text: string | null, always: boolean];

const IP_TEXT: Entry[] = [
  ['InReceives', '%d total packets received', true], ['InHdrErrors', '%d with invalid headers', false],
  ['InAddrErrors', '%d with invalid addresses', false], ['ForwDatagrams', '%d forwarded', true],
  ['InUnknownProtos', '%d with unknown protocol', false], ['InDiscards', '%d incoming packets discarded', true],
  ['InDelivers', '%d incoming packets delivered', true], ['OutRequests', '%d requests sent out', true],
  ['OutDiscards', '%d outgoing packets dropped', false], ['OutNoRoutes', '%d dropped because of missing route', false],
  ['ReasmTimeout', '%d fragments dropped after timeout', false], ['ReasmReqds', '%d reassemblies required', false],
  ['ReasmOKs', '%d packets reassembled ok', false], ['ReasmFails', '%d packet reassemblies failed', false],
  ['FragOKs', '%d fragments received ok', false], ['FragFails', '%d fragments failed', false], ['FragCreates', '%d fragments created', false],
];
const TCP_TEXT: Entry[] = [
  ['ActiveOpens', '%d active connection openings', true], ['PassiveOpens', '%d passive connection openings', true],
  ['AttemptFails', '%d failed connection attempts', true], ['EstabResets', '%d connection resets received', true],
  ['CurrEstab', '%d connections established', true], ['InSegs', '%d segments received', true],
  ['OutSegs', '%d segments sent out', true], ['RetransSegs', '%d segments retransmitted', true],
  ['InErrs', '%d bad segments received', true], ['OutRsts', '%d resets sent', true], ['InCsumErrors', '%d InCsumErrors', false],
];
const UDP_TEXT: Entry[] = [
  ['InDatagrams', '%d packets received', true], ['NoPorts', '%d packets to unknown port received', true],
  ['InErrors', '%d packet receive errors', true], ['OutDatagrams', '%d packets sent', true],
  ['RcvbufErrors', '%d receive buffer errors', true], ['SndbufErrors', '%d send buffer errors', true],
  ['InCsumErrors', '%d InCsumErrors', false], ['IgnoredMulti', '%d IgnoredMulti', false],
];
const TCPEXT_TEXT: Record<string, string> = {
  TW: '%d TCP sockets finished time wait in fast timer', DelayedACKs: '%d delayed acks sent', ListenOverflows: '%d times the listen queue of a socket overflowed',
  ListenDrops: '%d SYNs to LISTEN sockets dropped', TCPPureAcks: '%d acknowledgments not containing data payload received',
  TCPHPAcks: '%d predicted acknowledgments', TCPTimeouts: '%d other TCP timeouts', TCPSynRetrans: '%d SYN retransmits', ArpFilter: '%d ARP filter hits',
  EmbryonicRsts: '%d resets received for embryonic SYN_RECV sockets', TCPAbortOnData: '%d connections reset due to unexpected data',
  TCPAbortOnClose: '%d connections reset due to early user close', TCPHPHits: '%d packet headers predicted',
};
const ICMP_HIST: Record<string, string> = {
  DestUnreachs: 'destination unreachable', TimeExcds: 'timeout in transit', ParmProbs: 'wrong parameters', SrcQuenchs: 'source quenches',
  Redirects: 'redirects', Echos: 'echo requests', EchoReps: 'echo replies', Timestamps: 'timestamp request', TimestampReps: 'timestamp replies',
  AddrMasks: 'address mask request', AddrMaskReps: 'address mask replies',
};

export function netstatStats(host: Host): string {
  const v = (n: string): number => host.snmp.get(n) ?? 0;
  const table = (sec: string, entries: Entry[]): string => {
    let s = `${sec}:\n`;
    for (const [name, text, always] of entries) {
      const n = v(sec + name);
      if (!always && !n) continue;
      s += `    ${text!.replace('%d', String(n))}\n`;
    }
    return s;
  };
  let out = 'Ip:\n' + `    Forwarding: ${host.sysctl.num('net.ipv4.ip_forward') ? 1 : 2}\n` + table('Ip', IP_TEXT).slice('Ip:\n'.length);
  out += 'Icmp:\n';
  out += `    ${v('IcmpInMsgs')} ICMP messages received\n    ${v('IcmpInErrors')} input ICMP message failed\n`;
  const hist = (dir: string): string => {
    const rows = Object.entries(ICMP_HIST).filter(([k]) => v(`Icmp${dir}${k}`)).map(([k, t]) => `        ${t}: ${v(`Icmp${dir}${k}`)}\n`);
    return rows.length ? `    ICMP ${dir === 'In' ? 'input' : 'output'} histogram:\n${rows.join('')}` : '';
  };
  out += hist('In');
  out += `    ${v('IcmpOutMsgs')} ICMP messages sent\n    ${v('IcmpOutErrors')} ICMP messages failed\n`;
  out += hist('Out');
  const msgs = snmpCounters(host, false).filter(([k]) => k.startsWith('IcmpMsg'));
  out += 'IcmpMsg:\n' + msgs.map(([k, n]) => `        ${k.slice('IcmpMsg'.length)}: ${n}\n`).join('');
  out += table('Tcp', TCP_TEXT) + table('Udp', UDP_TEXT) + table('UdpLite', UDP_TEXT.filter(e => e[2]));
  out += 'TcpExt:\n';
  for (const [k, n] of snmpCounters(host, false)) {
    if (!k.startsWith('TcpExt')) continue;
    const name = k.slice('TcpExt'.length);
    out += TCPEXT_TEXT[name] ? `    ${TCPEXT_TEXT[name].replace('%d', String(n))}\n` : `    ${name}: ${n}\n`;
  }
  out += 'IpExt:\n';
  for (const [k, n] of snmpCounters(host, false)) if (k.startsWith('IpExt')) out += `    ${k.slice('IpExt'.length)}: ${n}\n`;
  return out;
}

export const netstat: Tool = (argv, ctx) => {
  const opts = argv.slice(1).map(w => w.text);
  if (opts.length === 1 && (opts[0] === '-s' || opts[0] === '--statistics')) return { exit: 0, stdout: netstatStats(ctx.host), stderr: '' };
  if (opts.length === 2 && opts.includes('-s') && (opts.includes('-t') || opts.includes('-u') || opts.includes('-w'))) {
    const full = netstatStats(ctx.host);
    const want = opts.includes('-t') ? ['Tcp:', 'TcpExt:'] : ['Udp:'];
    return { exit: 0, stdout: full.split(/(?=^\S)/m).filter(b => want.some(x => b.startsWith(x))).join(''), stderr: '' };
  }
  return { exit: 1, stdout: '', stderr: 'lvsim: only netstat -s is modelled (routes: ip route; socket listings, netstat -t/-l or ss, are not modelled)\n', errorAt: { word: 1, expected: 'netstat -s' } };
};
