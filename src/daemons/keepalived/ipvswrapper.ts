/**
 * daemons/keepalived/ipvswrapper.ts: what keepalived's two processes share to talk to IPVS
 * (keepalived/check/ipvswrapper.c): the "IPVS cmd" line `ipvs_talk` logs when the kernel refuses
 * a command, in libipvs's words (`ipvs_strerror`), and `ipvs_syncd_cmd`, which starts and stops
 * the kernel's connection sync daemons for lvs_sync_daemon.
 */
import { formatIp4, type Ip4 } from '../../net/addr';
import type { Host } from '../../kernel/host';
import { IpvsError, type IpvsCtl, type IpvsErrno } from '../../ipvs/ctl';
import { startSyncDaemon, stopSyncDaemon } from '../../ipvs/sync';
import { STRERROR } from '../../config/ip';

/** The IP_VS_SO_SET_* commands keepalived sends (include/uapi/linux/ip_vs.h: IP_VS_BASE_CTL 1152 + n). */
export const IPVS_CMD = {
  IP_VS_SO_SET_ADD: 1154,
  IP_VS_SO_SET_DEL: 1156,
  IP_VS_SO_SET_ADDDEST: 1159,
  IP_VS_SO_SET_DELDEST: 1160,
  IP_VS_SO_SET_EDITDEST: 1161,
  IP_VS_SO_SET_STARTDAEMON: 1163,
  IP_VS_SO_SET_STOPDAEMON: 1164,
} as const;
export type IpvsCmd = keyof typeof IPVS_CMD;

const ERRNO: Record<IpvsErrno, number> = { ENOENT: 2, ESRCH: 3, ENODEV: 19, EEXIST: 17, EINVAL: 22, ERANGE: 34 };

/** libipvs `ipvs_strerror`: the message for the command that failed, else one for any command, else strerror. */
export function ipvsStrerror(cmd: IpvsCmd, errno: IpvsErrno): string {
  switch (`${cmd} ${errno}`) {
    case 'IP_VS_SO_SET_ADD EEXIST': return 'Service already exists';
    case 'IP_VS_SO_SET_ADD ENOENT': return 'Scheduler or persistence engine not found';
    case 'IP_VS_SO_SET_ADDDEST EEXIST': return 'Destination already exists';
    case 'IP_VS_SO_SET_EDITDEST ENOENT':
    case 'IP_VS_SO_SET_DELDEST ENOENT': return 'No such destination';
    case 'IP_VS_SO_SET_STARTDAEMON EEXIST': return 'Daemon has already run';
    case 'IP_VS_SO_SET_STOPDAEMON ESRCH': return 'No daemon is running';
  }
  if (errno === 'ESRCH') return 'No such service';
  if (errno === 'EINVAL') return 'Invalid operation.  Possibly wrong module version, address not unicast, ...';
  return STRERROR[errno];
}

/** The rule `ipvs_talk` appends: " (VIP:tcp:PORT)" for a service, " (VIP:tcp:PORT -> RIP:PORT)" for a real server. */
export interface TalkRule {
  /** 'tcp', 'udp' or 'sctp'. */
  readonly protocol: string;
  readonly addr: Ip4;
  readonly port: number;
  readonly dest?: { readonly addr: Ip4; readonly port: number };
}

/** `ipvs_talk`'s log line for a refused command. */
export function ipvsTalkError(cmd: IpvsCmd, errno: IpvsErrno, rule?: TalkRule): string {
  let buf = '';
  if (rule) {
    buf = ` (${formatIp4(rule.addr)}:${rule.protocol}:${rule.port}${rule.dest ? ` -> ${formatIp4(rule.dest.addr)}:${rule.dest.port}` : ''})`;
  }
  return `IPVS cmd ${cmd}(${IPVS_CMD[cmd]}) error: ${ipvsStrerror(cmd, errno)}(${ERRNO[errno]})${buf}`;
}

/** The process talking to IPVS (the checker or the VRRP process): its host, IPVS and log. */
export interface IpvsTalker {
  readonly host: Host;
  readonly ipvs: IpvsCtl;
  readonly log: (msg: string) => void;
}

/** The resolved lvs_sync_daemon settings (struct lvs_syncd_config). */
export interface LvsSyncdConfig {
  readonly ifname: string;
  readonly syncid: number;
}

/**
 * `ipvs_syncd_cmd`: start or stop the master and/or backup sync daemon (IP_VS_STATE_MASTER,
 * IP_VS_STATE_BACKUP), each its own command. A refusal is logged as `ipvs_talk` logs it, unless
 * `ignoreError` (stopping daemons that may not run).
 */
export function ipvsSyncdCmd(
  { host, ipvs, log }: IpvsTalker, cmd: 'IP_VS_SO_SET_STARTDAEMON' | 'IP_VS_SO_SET_STOPDAEMON', config: LvsSyncdConfig,
  states: ReadonlyArray<'master' | 'backup'>, ignoreError: boolean,
): void {
  for (const state of states) {
    try {
      if (cmd === 'IP_VS_SO_SET_STARTDAEMON') startSyncDaemon(host, ipvs, { state, mcastIfn: config.ifname, syncid: config.syncid });
      else stopSyncDaemon(host, ipvs, state);
    } catch (e) {
      if (!(e instanceof IpvsError)) throw e;
      if (!ignoreError) log(ipvsTalkError(cmd, e.errno));
    }
  }
}

/** `ipvs_syncd_master`: the backup daemon stops, the master starts (the VRRP instance became MASTER). */
export function ipvsSyncdMaster(p: IpvsTalker, config: LvsSyncdConfig): void {
  ipvsSyncdCmd(p, 'IP_VS_SO_SET_STOPDAEMON', config, ['backup'], false);
  ipvsSyncdCmd(p, 'IP_VS_SO_SET_STARTDAEMON', config, ['master'], false);
}

/** `ipvs_syncd_backup`: the master daemon stops, the backup starts (the instance left MASTER). */
export function ipvsSyncdBackup(p: IpvsTalker, config: LvsSyncdConfig): void {
  ipvsSyncdCmd(p, 'IP_VS_SO_SET_STOPDAEMON', config, ['master'], false);
  ipvsSyncdCmd(p, 'IP_VS_SO_SET_STARTDAEMON', config, ['backup'], false);
}
