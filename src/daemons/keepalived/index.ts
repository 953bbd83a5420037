/**
 * daemons/keepalived/index.ts: keepalived on lvsim's hosts: its systemd unit and its command.
 * `installKeepalived()` makes `systemctl start keepalived` and `keepalived -f FILE` known.
 */
import { registerUnit } from '../../config/units';
import { registerTool } from '../../config/commands';
import { keepalivedUnit } from './daemon';
import { keepalivedTool } from './tool';

export { planWarmups, BOOTSTRAP_DELAY_NS } from './healthcheck';
export { keepalivedOn, startKeepalived, isStateLine, KEEPALIVED_VERSION, KA_STARTUP_NS } from './daemon';

export function installKeepalived(): void {
  registerUnit('keepalived', keepalivedUnit);
  registerTool('keepalived', keepalivedTool);
}
