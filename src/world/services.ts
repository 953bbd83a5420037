/**
 * world/services.ts: the servers a scenario runs on its real servers (`listen:`), as processes.
 * Each is a process named after its unit (or its NAME) holding a listening socket: stopping it
 * (`systemctl stop UNIT`, `pkill NAME`, `kill PID`) closes the listener, so new connections get
 * an RST, and closes the connections it had accepted; `systemctl start UNIT` opens it again.
 * Two kinds: `greeting`, the vectors' line server (world/apps.ts), and `http`, an HTTP/1.0
 * server answering every GET with the configured status and the same greeting line as body,
 * for keepalived's HTTP_GET.
 */
import { formatEndpoint } from '../net/addr';
import { bytes } from '../net/packet';
import type { Host } from '../kernel/host';
import { type TcpSock, tcpListen, tcpUnlisten } from '../kernel/tcp';
import { procs, type Process } from '../kernel/proc';
import type { ListenSpec } from '../config/scenario';
import { type DaemonUnit, registerUnitResolver } from '../config/units';
import { type Descriptors, startServer } from './apps';

const REASON: Record<number, string> = { 200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 403: 'Forbidden', 404: 'Not Found', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

interface Service { readonly spec: ListenSpec; proc: Process | null; held: ReadonlySet<TcpSock> }
const services = new WeakMap<Host, Service[]>();

/** The HTTP/1.0 server: read the request head, answer, close. */
function startHttpServer(host: Host, spec: ListenSpec, fds: Descriptors): void {
  const status = spec.status ?? 200;
  tcpListen(host, spec.addr, spec.port, spec.name, (s) => {
    fds.add(s);
    let head = '';
    let answered = false;
    return {
      onData: (sock, d) => {
        if (answered) return;
        head += String.fromCharCode(...d);
        if (!head.includes('\r\n\r\n') && !head.includes('\n\n')) return;
        answered = true;
        const body = `${spec.name} local=${formatEndpoint(sock.laddr, sock.lport)} peer=${formatEndpoint(sock.raddr, sock.rport)}\n`;
        sock.send(bytes(`HTTP/1.0 ${status} ${REASON[status] ?? 'Status'}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`));
        sock.close();
        fds.delete(sock);
      },
      onPeerClosed: (sock) => {
        if (answered) return;
        sock.close();
        fds.delete(sock);
      },
      onClosed: (sock) => fds.delete(sock),
    };
  });
}

/** Start one of the host's servers as a process. */
export function startService(host: Host, spec: ListenSpec): Process {
  let list = services.get(host);
  if (!list) services.set(host, (list = []));
  let svc = list.find(x => x.spec === spec);
  if (!svc) list.push((svc = { spec, proc: null, held: new Set() }));
  if (svc.proc && procs(host).procs.has(svc.proc.pid)) return svc.proc;
  // The connections it accepted and has not closed yet: what it still holds when it exits.
  const accepted = new Set<TcpSock>();
  svc.held = accepted;
  if (spec.kind === 'http') startHttpServer(host, spec, accepted);
  else startServer(host, spec.addr, spec.port, spec.name, accepted);
  const s = svc;
  const proc = procs(host).spawn({
    ppid: 1, comm: spec.unit ?? spec.name, cmdline: `${spec.unit ?? spec.name} (${spec.kind ?? 'greeting'} server on tcp ${spec.port})`,
    onSignal: () => procs(host).exit(proc.pid),
    onExit: () => {
      s.proc = null;
      tcpUnlisten(host, spec.addr, spec.port);
      // The process's sockets close with it (the kernel closes every descriptor).
      for (const x of accepted) if (x.state !== 'CLOSED' && x.state !== 'TIME_WAIT') x.close();
    },
  });
  svc.proc = proc;
  return proc;
}

/** Stop one of the host's servers (SIGTERM to its process); false when it was not running. */
export function stopService(host: Host, spec: ListenSpec): boolean {
  const svc = services.get(host)?.find(x => x.spec === spec);
  if (!svc?.proc || !procs(host).procs.has(svc.proc.pid)) return false;
  procs(host).kill(svc.proc.pid, 'TERM');
  return true;
}

/** The accepted connections the host's running servers hold open (their socket descriptors). */
export function heldConnections(host: Host): number {
  let n = 0;
  for (const s of services.get(host) ?? []) if (s.proc && procs(host).procs.has(s.proc.pid)) n += s.held.size;
  return n;
}

/** Is one of the host's servers running? */
export function serviceRunning(host: Host, spec: ListenSpec): boolean {
  const p = services.get(host)?.find(x => x.spec === spec)?.proc;
  return !!p && procs(host).procs.has(p.pid);
}

function unitFor(host: Host, name: string): Service | null {
  return services.get(host)?.find(s => s.spec.unit === name) ?? null;
}

registerUnitResolver((name, ctx) => {
  const svc = unitFor(ctx.host, name);
  if (!svc) return null;
  const unit: DaemonUnit = {
    start: (c) => { startService(c.host, svc.spec); return { ok: true, stderr: '' }; },
    stop: (c) => { if (svc.proc) procs(c.host).kill(svc.proc.pid, 'TERM'); },
    active: () => svc.proc !== null,
    status: () => (svc.proc ? `   Main PID: ${svc.proc.pid} (${svc.proc.comm})\n` : ''),
  };
  return unit;
});
