/**
 * world/faults.ts: the faults a scenario declares (`fault:` traffic steps, config/scenario.ts
 * FaultSpec) applied to the running world, and booting a host again.
 *
 * A boot is a fresh kernel. The old kernel (crashed, or halted after a reboot's orderly shutdown:
 * SIGTERM to every process, as systemd stops its units, so keepalived sends its priority-0 advert
 * and takes its addresses and pool down) keeps nothing: its IPVS table, connections, conntrack,
 * neighbours, sockets, sysctls, modules and every address and route are gone. What persists is the
 * hardware (each NIC keeps its MAC, its link and its cable state) and the disk: the host's files
 * (ifcfg-*, sysctl.conf, keepalived.conf, /etc/sysconfig/iptables ...) and its journal. Packets
 * the old kernel still held (waiting for ARP) end at the boot as `host_crashed`. The host's
 * `setup:` lines are its boot configuration: they run again, in order, as the boot scripts would,
 * then its `listen:` services start. Exec steps run before the boot are runtime changes and are
 * not replayed.
 * Simplified: a boot takes no time (the setup lines run at the boot step's moment); systemctl
 * enable/disable change nothing (a unit a setup line starts is started again at each boot); the
 * journal is kept whole, without journalctl's "-- Reboot --" separators.
 */
import { Host, type NetDevice } from '../kernel/host';
import { Ipvs } from '../ipvs/ipvs';
import { registerIpvsHooks } from '../ipvs/core';
import { dropHeldPackets, halt, panic } from '../kernel/panic';
import { procs } from '../kernel/proc';
import { CountingSink } from '../trace/sink';
import type { FaultSpec } from '../config/scenario';
import type { Diagnostic } from '../config/diag';
import type { ToolResult } from '../config/tool';
import { serviceRunning, startService, stopService } from './services';
import { type NotApplied, type World, type WorldHost, applyLine } from './world';

/** Where a refused fault is reported. */
interface FaultSinks {
  readonly file: string;
  readonly diags: Diagnostic[];
  readonly notApplied: NotApplied[];
}

/** Apply one declared fault now. A fault that cannot apply (boot a running host ...) is a diagnostic at its step. */
export function applyFault(world: World, st: FaultSpec, sinks: FaultSinks): ToolResult {
  const refuse = (found: string, expected: string): ToolResult => {
    sinks.diags.push({ file: sinks.file, line: st.pos.line, col: st.pos.col, endCol: st.pos.endCol, severity: 'error', found, expected });
    return { exit: 1, stdout: '', stderr: `lvsim: fault ${st.fault} not applied: found ${found}, expected ${expected}\n` };
  };
  const ok: ToolResult = { exit: 0, stdout: '', stderr: '' };
  if (st.fault === 'link-down' || st.fault === 'link-up') {
    const up = st.fault === 'link-up';
    const link = st.link !== undefined ? world.links.find(l => l.name === st.link) : undefined;
    const ends = link ? link.ends : world.links.flatMap(l => l.ends).filter(e => e.host.name === st.host && e.dev.name === st.dev);
    if (ends.length === 0) return refuse(st.link ?? `${st.host}:${st.dev}`, 'a link of the scenario');
    // The cable (or the switch port): carrier follows it, whatever the kernel's state (netif_carrier_on/off).
    for (const e of ends) e.host.setCarrier(e.dev, up);
    const target = st.link ?? `${st.host}:${st.dev}`;
    for (const name of new Set(ends.map(e => e.host.name))) {
      world.hosts.get(name)!.host.emit.event({ kind: 'fault', fault: st.fault, target });
      world.recordConfig(name);
    }
    return ok;
  }
  const wh = world.hosts.get(st.host!)!;
  const crashed = wh.host.crashed;
  switch (st.fault) {
    case 'crash':
      if (crashed) return refuse(`${wh.name} already crashed`, `a running host (boot it first: { fault: boot, host: ${wh.name} })`);
      panic(wh.host, 'sysrq triggered crash');
      world.recordConfig(wh.name);
      return ok;
    case 'boot':
      if (!crashed) return refuse(`${wh.name} is running`, `a crashed host (a running one reboots: { fault: reboot, host: ${wh.name} })`);
      bootHost(world, wh.name, 'boot', sinks);
      return ok;
    case 'reboot':
      if (crashed) return refuse(`${wh.name} has crashed`, `a running host (a crashed one boots: { fault: boot, host: ${wh.name} })`);
      bootHost(world, wh.name, 'reboot', sinks);
      return ok;
    case 'service-stop':
    case 'service-start': {
      if (crashed) return refuse(`${wh.name} has crashed`, `a running host (nothing runs on a crashed one; boot it first)`);
      const spec = world.scenario?.hosts.get(wh.name)?.listen.find(l => l.unit === st.service || l.name === st.service);
      const start = st.fault === 'service-start';
      wh.host.emit.event({ kind: 'fault', fault: st.fault, target: `${wh.name}:${st.service}` });
      if (spec) {
        if (start) { if (!serviceRunning(wh.host, spec)) startService(wh.host, spec); } else stopService(wh.host, spec);
        return ok;
      }
      // keepalived (and any other unit): as the operator would, through systemctl.
      const r = world.exec(wh.name, `systemctl ${start ? 'start' : 'stop'} ${st.service}`);
      if (r.exit !== 0) return refuse(`systemctl ${start ? 'start' : 'stop'} ${st.service}: ${r.stderr.trim()}`, 'a service that starts');
      return ok;
    }
  }
}

/**
 * Boot `name` again as a fresh kernel (see the file's comment): after a crash (`boot`), or after
 * an orderly shutdown of a running host (`reboot`).
 */
export function bootHost(world: World, name: string, how: 'boot' | 'reboot', sinks: FaultSinks): WorldHost {
  const wh = world.hosts.get(name)!;
  const old = wh.host;
  if (how === 'reboot') {
    // systemd stops every unit (SIGTERM: each daemon runs its own shutdown), then the kernel halts.
    const pt = procs(old);
    pt.killAll([...pt.procs.keys()], 'TERM');
  }
  halt(old);
  // The old kernel's memory is gone with the boot: packets it still held (waiting for ARP) end
  // here, and a timer it left armed records nothing from now on.
  dropHeldPackets(old, 'lost with the old kernel at boot');
  old.setTraceSink(new CountingSink());

  const host = new Host(name, world.engine, world.trace, old.macBase);
  host.ids = world.ids;
  // As World.addHost does: a daemon's change is recorded when it happens, as its own.
  host.emit.onConfig = (by) => world.recordConfig(name, by);
  const ipvs = new Ipvs(world.engine, host.sysctl);
  registerIpvsHooks(host, ipvs);
  // The same NICs, in the same order (the same ifindex), on the same links, with their cables as they are.
  for (const link of world.links) {
    const ends = link.ends as Array<{ host: Host; dev: NetDevice }>;
    ends.forEach((e, i) => {
      if (e.host !== old) return;
      const mtu = world.scenario?.links.find(l => l.name === link.name)?.mtu;
      const dev = host.devices.get(e.dev.name) ?? host.createDevice(e.dev.name, 'ether', { mtu, mac: e.dev.mac });
      dev.carrier = e.dev.carrier;
      dev.xmit = e.dev.xmit;
      e.dev.xmit = null;
      ends[i] = { host, dev };
    });
  }
  // The journal is on disk.
  procs(host).journal.push(...procs(old).journal);
  const next: WorldHost = { name, host, ipvs, role: wh.role, files: wh.files };
  world.hosts.set(name, next);
  host.emit.event({ kind: 'host', op: how });

  const spec = world.scenario?.hosts.get(name);
  if (spec) {
    // The boot scripts: the setup lines again. A line that fails as it did at the first start is reported once.
    const diags: Diagnostic[] = [];
    for (const line of spec.setup) applyLine(world, name, line, sinks.file, diags, sinks.notApplied, spec.files);
    const seen = new Set(sinks.diags.map(d => `${d.line}:${d.col}:${d.expected}`));
    for (const d of diags) if (!seen.has(`${d.line}:${d.col}:${d.expected}`)) sinks.diags.push(d);
    for (const l of spec.listen) startService(host, l);
  }
  world.recordConfig(name);
  return next;
}
