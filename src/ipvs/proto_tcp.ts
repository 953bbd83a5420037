/**
 * ipvs/proto_tcp.ts: IPVS's TCP connection states, as set_tcp_state() and tcp_state_idx()
 * run them (net/netfilter/ipvs/ip_vs_proto_tcp.c), plus the UDP timeout (ip_vs_proto_udp.c).
 *
 * The table has three blocks of four rows (syn, fin, ack, rst): INPUT (0), OUTPUT (4) and
 * INPUT_ONLY (8). TUN/DR connections carry IP_VS_CONN_F_NOOUTPUT, so every input packet uses
 * INPUT_ONLY (set_tcp_state). secure_tcp (update_defense_level -> tcp_timeout_change) swaps
 * in tcp_states_dos. Timeouts are per network namespace (pd->timeout_table): `ipvsadm --set`
 * changes ESTABLISHED, FIN_WAIT and UDP (ip_vs_set_timeout).
 */
import { NS_PER_S, type Ns } from '../sim/engine';
import { TcpState } from './ctl';

/** TCP header flag bits (same values as net/packet.ts). */
const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;

/** Row offsets into the state table (TCP_DIR_*). */
export const TCP_DIR_INPUT = 0;
export const TCP_DIR_OUTPUT = 4;
export const TCP_DIR_INPUT_ONLY = 8;

/** IP_VS_DIR_* as ip_vs_set_state() passes it. */
export type IpvsDir = 'input' | 'output' | 'input_only';

export const TCP_STATE_NAMES: readonly string[] = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT',
  'LAST_ACK', 'LISTEN', 'SYNACK',
];

/** ip_vs_ctpl_state_name_table: what -Lnc shows for a persistence template. */
export const IP_VS_CTPL_S_ASSURED = 1;
export const CTPL_STATE_NAMES: readonly string[] = ['NONE', 'ASSURED'];

/** UDP's only state, IP_VS_UDP_S_NORMAL, shown as "UDP". */
export const UDP_STATE_NAME = 'UDP';

const sES = TcpState.ESTABLISHED, sSS = TcpState.SYN_SENT, sSR = TcpState.SYN_RECV,
  sFW = TcpState.FIN_WAIT, sTW = TcpState.TIME_WAIT, sCL = TcpState.CLOSE, sCW = TcpState.CLOSE_WAIT,
  sLA = TcpState.LAST_ACK, sLI = TcpState.LISTEN, sSA = TcpState.SYNACK;

/** tcp_states[]: rows = (direction offset + event), columns = current state. */
export const TCP_STATES: readonly (readonly number[])[] = [
  /* INPUT       sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
  /* syn */ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /* fin */ [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /* rst */ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sSR],
  /* OUTPUT */
  /* syn */ [sSS, sES, sSS, sSR, sSS, sSS, sSS, sSS, sSS, sLI, sSR],
  /* fin */ [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  /* rst */ [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  /* INPUT_ONLY */
  /* syn */ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSR],
  /* fin */ [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /* rst */ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
];

/** tcp_states_dos[]: the table while the secure_tcp defense is on. */
export const TCP_STATES_DOS: readonly (readonly number[])[] = [
  /* INPUT       sNO  sES  sSS  sSR  sFW  sTW  sCL  sCW  sLA  sLI  sSA */
  /* syn */ [sSR, sES, sES, sSR, sSR, sSR, sSR, sSR, sSR, sSR, sSA],
  /* fin */ [sCL, sCW, sSS, sTW, sTW, sTW, sCL, sCW, sLA, sLI, sSA],
  /* ack */ [sES, sES, sSS, sSR, sFW, sTW, sCL, sCW, sCL, sLI, sSA],
  /* rst */ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
  /* OUTPUT */
  /* syn */ [sSS, sES, sSS, sSA, sSS, sSS, sSS, sSS, sSS, sLI, sSA],
  /* fin */ [sTW, sFW, sSS, sTW, sFW, sTW, sCL, sTW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sLA, sES, sES],
  /* rst */ [sCL, sCL, sSS, sCL, sCL, sTW, sCL, sCL, sCL, sCL, sCL],
  /* INPUT_ONLY */
  /* syn */ [sSA, sES, sES, sSR, sSA, sSA, sSA, sSA, sSA, sSA, sSA],
  /* fin */ [sCL, sFW, sSS, sTW, sFW, sTW, sCL, sCW, sLA, sLI, sTW],
  /* ack */ [sES, sES, sSS, sES, sFW, sTW, sCL, sCW, sCL, sLI, sES],
  /* rst */ [sCL, sCL, sCL, sSR, sCL, sCL, sCL, sCL, sLA, sLI, sCL],
];

/** tcp_timeouts[] in seconds, indexed by TcpState. */
export const TCP_TIMEOUTS_S: readonly number[] = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120];
/** udp_timeouts[IP_VS_UDP_S_NORMAL]. */
export const UDP_TIMEOUT_S = 300;
/** Timeout of a new entry before its first state transition (ip_vs_conn_new: 3*HZ). */
export const NEW_CONN_TIMEOUT_NS: Ns = 3 * NS_PER_S;

/** tcp_state_active_table: ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK count as active. */
export function tcpStateActive(state: number): boolean {
  return state === sES || state === sSS || state === sSR || state === sSA;
}

/** tcp_state_idx(): rst 3, else syn 0, else fin 1, else ack 2, else -1 (no table lookup). */
export function tcpStateIdx(flags: number): number {
  if (flags & RST) return 3;
  if (flags & SYN) return 0;
  if (flags & FIN) return 1;
  if (flags & ACK) return 2;
  return -1;
}

/**
 * The state after one packet (set_tcp_state's lookup): no usable flags -> CLOSE.
 * `off` is the row offset after the NOOUTPUT adjustment.
 */
export function tcpNextState(state: number, flags: number, off: number, dos: boolean): number {
  const idx = tcpStateIdx(flags);
  if (idx < 0) return sCL;
  return (dos ? TCP_STATES_DOS : TCP_STATES)[off + idx]![state]!;
}

/** The per-namespace timeout table (pd->timeout_table for TCP and UDP), in ns. */
export class ProtoTimeouts {
  readonly tcp: Ns[] = TCP_TIMEOUTS_S.map((s) => s * NS_PER_S);
  udp: Ns = UDP_TIMEOUT_S * NS_PER_S;
}
