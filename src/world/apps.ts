/**
 * world/apps.ts: the applications on the simulated hosts, as the recorded kernel vectors
 * ran them (test/fixtures/oracle/README.md). A server named NAME accepts, greets with
 * "NAME local=IP:PORT peer=IP:PORT\n", reads to the client's FIN, answers "NAME bytes=N\n"
 * and closes. A client connects, reads the greeting, optionally sends a request, then
 * (mode close) half-closes and reads to the server's FIN, or (mode hold) waits for release.
 */
import { formatEndpoint } from '../net/addr';
import { bytes } from '../net/packet';
import type { Host } from '../kernel/host';
import { type TcpErrno, type TcpSock, tcpConnect, tcpListen } from '../kernel/tcp';

/**
 * A server process's open connection descriptors (a Set will do): a socket from accept() until
 * the process closes it, or until the connection ends under it (reset, timeout). Closing the
 * descriptor lets the process go of the socket while TCP finishes the close on its own.
 */
export interface Descriptors {
  add(s: TcpSock): void;
  delete(s: TcpSock): void;
}

export function startServer(host: Host, addr: number, port: number, name: string, fds?: Descriptors): void {
  tcpListen(host, addr, port, name, (s) => {
    fds?.add(s);
    return {
      onConnected: (sock) => sock.send(bytes(`${name} local=${formatEndpoint(sock.laddr, sock.lport)} peer=${formatEndpoint(sock.raddr, sock.rport)}\n`)),
      onPeerClosed: (sock) => {
        sock.send(bytes(`${name} bytes=${sock.received}\n`));
        sock.close();
        fds?.delete(sock);
      },
      onClosed: (sock) => fds?.delete(sock),
    };
  });
}

/** What became of one client connection. */
export interface ClientResult {
  readonly id: string;
  readonly host: string;
  src: string;
  readonly dst: string;
  readonly startedAt: number;
  /** close: connect, read the greeting, close; hold: stay open after the greeting until released. */
  readonly mode: 'close' | 'hold';
  /** Virtual time the step finished (closed, failed, or established for hold). */
  doneAt: number | null;
  ok: boolean | null;
  error: TcpErrno | null;
  /** The greeting line, and the server name it starts with. */
  greeting: string;
  server: string | null;
  /** The whole reply stream. */
  reply: string;
  state: 'connecting' | 'established' | 'closing' | 'closed' | 'failed';
  sock: TcpSock | null;
  /** Called once the connection is closed or failed (a release step waits on it). */
  afterClose: (() => void) | null;
  /** When the step finished: the server's byte count from its answer ("NAME bytes=N"), and the
   *  socket's path MTU (IP_MTU) and MSS (tcpi_snd_mss). */
  serverBytes: number | null;
  pmtu: number | null;
  sndMss: number | null;
}

/**
 * A connection's outcome in the words the run summary uses. "ok" only when its step is over
 * and the exchange complete: a close-mode connection closed, a held one established (what
 * befalls it after a release is the release's). Answered but not closed by the end of the run
 * (the client's FIN or the server's last data lost) is unfinished, not ok. `server` names who
 * answered (a host name where the caller knows it).
 */
export function clientOutcome(c: ClientResult, server = c.server): { readonly verdict: 'ok' | 'failed' | 'unfinished'; readonly text: string; readonly releaseUnfinished: boolean } {
  if (c.ok === false) return { verdict: 'failed', text: `failed: ${c.error}${server ? ` after ${server}'s greeting` : ''}`, releaseUnfinished: false };
  if (c.ok === true && c.mode === 'hold') {
    // The held connection's step ended at the greeting; a release that never closed is noted.
    const stuck = c.state === 'closing';
    return { verdict: 'ok', text: `ok, answered by ${server}`, releaseUnfinished: stuck };
  }
  if (c.ok === true && c.state === 'closed') return { verdict: 'ok', text: `ok, answered by ${server}`, releaseUnfinished: false };
  if (c.ok === true) return { verdict: 'unfinished', text: `still ${c.state} after ${server}'s greeting: the exchange had not finished when the run stopped`, releaseUnfinished: false };
  return { verdict: 'unfinished', text: `still ${c.state}`, releaseUnfinished: false };
}

const dec = new TextDecoder();
/** The bytes as text; ASCII (what the servers send) without the decoder's call overhead. */
function text(data: Uint8Array): string {
  if (data.length > 1024) return dec.decode(data);
  for (let i = 0; i < data.length; i++) if (data[i]! > 0x7f) return dec.decode(data);
  return String.fromCharCode.apply(null, data as unknown as number[]);
}

/** A request of `n` bytes ('a' repeated); views of one shared buffer, as nothing writes to sent data. */
let filler = new Uint8Array(0);
function request(n: number): Uint8Array {
  if (filler.length < n) filler = new Uint8Array(Math.max(n, 2 * filler.length, 4096)).fill(0x61);
  return filler.subarray(0, n);
}

/**
 * Start a client; `done` fires once the step is over (hold: once the greeting is read).
 * `connectTimeoutNs` is the program's socket timeout: connect and each read wait that long.
 */
export function startClient(host: Host, id: string, src: number, sport: number, dst: number, dport: number, mode: 'close' | 'hold', send: number, done: (r: ClientResult) => void, connectTimeoutNs = 0): ClientResult {
  const r: ClientResult = {
    id, host: host.name, src: '', dst: formatEndpoint(dst, dport), startedAt: host.engine.now, mode, doneAt: null,
    ok: null, error: null, greeting: '', server: null, reply: '', state: 'connecting', sock: null, afterClose: null,
    serverBytes: null, pmtu: null, sndMss: null,
  };
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    r.doneAt = host.engine.now;
    const m = /\bbytes=(\d+)/.exec(r.reply.slice(r.greeting.length));
    r.serverBytes = m ? Number(m[1]) : null;
    if (r.sock) { r.pmtu = r.sock.pathMtu(); r.sndMss = r.sock.sendMss(); }
    done(r);
  };
  let lastProgress = host.engine.now;
  const s = tcpConnect(host, src, sport, dst, dport, {
    onConnected: () => { r.state = 'established'; lastProgress = host.engine.now; },
    onData: (sock, data) => {
      lastProgress = host.engine.now;
      const hadGreeting = r.greeting.endsWith('\n');
      r.reply += text(data);
      if (!hadGreeting) {
        const nl = r.reply.indexOf('\n');
        if (nl < 0) return;
        r.greeting = r.reply.slice(0, nl + 1);
        const sp = r.greeting.indexOf(' ');
        r.server = (sp < 0 ? r.greeting : r.greeting.slice(0, sp)) || null;
        r.ok = true;
        if (send > 0) sock.send(request(send));
        if (mode === 'close') { r.state = 'closing'; sock.shutdown(); } else finish();
      }
    },
    onPeerClosed: (sock) => { sock.close(); },
    // A close-mode step is over only when the exchange is: a reset or a timeout after the
    // greeting (a large request lost in a path-MTU black hole) fails it. A held connection's
    // step ended at the greeting; what befalls it later is the release's to tell.
    onError: (_s, err) => { if (r.ok === null || !finished) r.ok = false; r.error = err; r.state = 'failed'; finish(); },
    onClosed: () => { if (r.state !== 'failed') r.state = 'closed'; finish(); r.afterClose?.(); r.afterClose = null; },
  });
  if (typeof s === 'string') {
    r.ok = false; r.error = s; r.state = 'failed';
    host.engine.after(0, finish);
    return r;
  }
  r.sock = s;
  r.src = formatEndpoint(s.laddr, s.lport);
  if (connectTimeoutNs > 0) {
    // The application's socket timeout (socket.settimeout): connect() and every later read give
    // up after that long without progress; the program then reports ETIMEDOUT and closes.
    const check = (): void => {
      if (finished) return;
      const idle = host.engine.now - lastProgress;
      if (idle < connectTimeoutNs) { host.engine.after(connectTimeoutNs - idle, check); return; }
      if (r.state === 'connecting' && s.state === 'SYN_SENT') { s.fail('ETIMEDOUT', false); return; }
      r.ok = false; r.error = 'ETIMEDOUT'; r.state = 'failed';
      s.close();
      finish();
    };
    host.engine.after(connectTimeoutNs, check);
  }
  return r;
}

/** Release a held connection: client FIN first, then read to the server's FIN. */
export function releaseClient(r: ClientResult, closed: () => void): void {
  if (r.sock && r.state === 'established') {
    r.afterClose = closed;
    r.state = 'closing';
    r.sock.shutdown();
  } else {
    closed();
  }
}
