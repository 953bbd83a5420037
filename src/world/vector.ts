/**
 * world/vector.ts: the kernel-recorded vector formats (lvsim-oracle-vector/1 and /2) as a
 * schema. A vector is checked whole before anything runs; every problem is reported with its
 * JSON path (`steps[0].src`), what was found and what was expected, never as a TypeError
 * from deep inside the replay.
 */
import { z } from '../config/schema';

const counters = z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative(), z.number().int().nonnegative()]);
/** `after`: per real server `RIP:port`, [weight, ActiveConn, InActConn] as `ipvsadm -Ln` printed them. */
const after = z.record(z.string().regex(/^\d+\.\d+\.\d+\.\d+:\d+$/, 'a real server as RIP:port'), counters);
/** `table`: the director's `ipvsadm -Lnc` rows, [protocol, state, source, virtual, destination]. */
const table = z.array(z.tuple([z.string(), z.string(), z.string(), z.string(), z.string()]));
const endpoint = z.string().regex(/^\d+\.\d+\.\d+\.\d+:\d+$/, 'an address:port such as 203.0.113.10:40001');
const ipv4 = z.string().regex(/^\d+\.\d+\.\d+\.\d+$/, 'an IPv4 address such as 172.16.29.6');
const hostIf = z.string().regex(/^[^:\s]+:[^:\s]+$/, 'host:interface');

/** What every step may carry besides its own fields. */
const common = {
  n: z.number().int(),
  after: after.optional(),
  table: table.optional(),
  at_ms: z.number().nonnegative().optional(),
  /** With a second director: its counters and table at the same moment. */
  director2: z.looseObject({ after: after.optional(), table: table.optional() }).optional(),
};

const connect = z.looseObject({
  ...common,
  do: z.literal('connect'),
  id: z.string().optional(),
  src: endpoint,
  mode: z.enum(['hold', 'close', 'send']).optional(),
  timeout_ms: z.number().int().positive().optional(),
  bytes: z.number().int().nonnegative().optional(),
  expect: z.looseObject({
    ok: z.boolean().optional(),
    rs: ipv4.optional(),
    error: z.string().optional(),
    server_bytes: z.number().int().nonnegative().optional(),
    pmtu: z.number().int().positive().optional(),
    snd_mss: z.number().int().positive().optional(),
  }).optional(),
}).refine(s => s.mode !== 'send' || s.bytes !== undefined, { message: 'a send step needs bytes', path: ['bytes'] });

const release = z.looseObject({
  ...common,
  do: z.literal('release'),
  id: z.string().optional(),
  ids: z.array(z.string()).optional(),
  expect: z.looseObject({ ok: z.boolean().optional(), error: z.string().optional(), answer: z.string().optional() }).optional(),
}).refine(s => s.id !== undefined || s.ids !== undefined, { message: 'a release step needs id or ids', path: ['ids'] });

const exec = z.looseObject({
  ...common,
  do: z.literal('exec'),
  host: z.string().optional(),
  cmd: z.string().optional(),
  command: z.string().optional(),
}).refine(s => s.cmd !== undefined || s.command !== undefined, { message: 'an exec step needs cmd', path: ['cmd'] });

const wait = z.looseObject({ ...common, do: z.literal('wait'), ms: z.number().nonnegative().optional() });

const arping = z.looseObject({
  ...common,
  do: z.literal('arping'),
  host: z.string(),
  dev: z.string(),
  target: ipv4,
  count: z.number().int().positive().max(1000),
  expect: z.looseObject({
    replies_from: z.array(z.union([hostIf, z.null()])).optional(),
    neigh_at_end: z.union([hostIf, z.null()]).optional(),
  }).optional(),
});

const listen = z.looseObject({ proto: z.string(), port: z.number().int().min(1).max(65535), name: z.string().min(1) });

/**
 * Steps of the keepalived group. `start`: a daemon (`daemon`, its `config` and the command line
 * `cmd`) or a TCP server (`listen`) on `host`; `kill`: every `process` of that name dies by
 * `signal`; `check`: who holds the VIP and whose MAC the router's entry for it holds.
 */
const start = z.looseObject({
  ...common,
  do: z.literal('start'),
  host: z.string(),
  daemon: z.string().optional(),
  config: z.string().optional(),
  cmd: z.string().optional(),
  listen: listen.optional(),
}).refine(s => (s.daemon !== undefined) !== (s.listen !== undefined), { message: 'a start step names either a daemon or a listen', path: ['daemon'] })
  .refine(s => s.daemon === undefined || s.cmd !== undefined || s.config !== undefined, { message: 'a daemon start step needs cmd or config', path: ['cmd'] });
const kill = z.looseObject({ ...common, do: z.literal('kill'), host: z.string(), process: z.string().min(1), signal: z.string().min(1) });
const check = z.looseObject({
  ...common,
  do: z.literal('check'),
  expect: z.looseObject({
    vip_on: z.array(hostIf).optional(),
    router_neigh_vip: z.union([hostIf, z.null()]).optional(),
  }).optional(),
});

const stepV1 = z.discriminatedUnion('do', [connect, release, exec]);
const stepV2 = z.discriminatedUnion('do', [connect, release, exec, wait, arping, start, kill, check]);

const hostSpec = z.looseObject({
  setup: z.array(z.string()),
  listen: z.array(listen).optional(),
  files: z.record(z.string(), z.string()).optional(),
});
const final = z.looseObject({ 'ipvsadm-Ln': z.string().optional(), 'ipvsadm-Lnc': z.string().optional(), 'ipvsadm-stats': z.string().optional() });

const NSTAT = z.record(z.string(), z.record(z.string(), z.number()));
const icmpSeen = z.looseObject({
  at: hostIf, dir: z.enum(['in', 'out']), src: ipv4, dst: ipv4,
  type: z.number().int(), code: z.number().int(), mtu: z.number().int().optional(),
});
const observe = z.looseObject({
  nstat: NSTAT.optional(),
  sniffed: z.array(hostIf).optional(),
  icmp: z.array(icmpSeen).optional(),
  martian_source_logged: z.record(z.string(), z.number().int().nonnegative()).optional(),
  route_mtu: z.record(z.string(), z.union([z.number().int().positive(), z.null()])).optional(),
  iptables_counters: z.record(z.string(), z.array(z.tuple([z.string(), z.string(), z.string(), z.number()]))).optional(),
  /** keepalived's own log lines per host, the VRRP adverts and gratuitous ARPs seen on the router. */
  log: z.record(z.string(), z.array(z.looseObject({ at_ms: z.number(), msg: z.string() }))).optional(),
  vrrp: z.array(z.looseObject({
    from: hostIf, src: ipv4.optional(), vrid: z.number().int(), prio: z.number().int(),
    count: z.number().int().nonnegative(), first_ms: z.number().optional(), last_ms: z.number().optional(),
  })).optional(),
  garp: z.array(z.looseObject({ at_ms: z.number(), from: hostIf, ip: ipv4 })).optional(),
});

const base = {
  id: z.string().min(1),
  description: z.string().optional(),
  segments: z.array(z.array(hostIf).min(1)),
  hosts: z.record(z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a host name'), hostSpec),
  final: final.optional(),
  racy: z.string().optional(),
};

export const vectorV1 = z.looseObject({ ...base, format: z.literal('lvsim-oracle-vector/1'), steps: z.array(stepV1) });
export const vectorV2 = z.looseObject({
  ...base, format: z.literal('lvsim-oracle-vector/2'), steps: z.array(stepV2), observe: observe.optional(),
  final_director2: final.optional(), keepalived: z.string().optional(),
});
export const vectorSchema = z.discriminatedUnion('format', [vectorV1, vectorV2]);

export type Vector = z.infer<typeof vectorSchema>;
export type VectorStep = Vector['steps'][number];
export type ConnectStep = z.infer<typeof connect>;
export type ArpingStep = z.infer<typeof arping>;
export type StartStep = z.infer<typeof start>;
export type KillStep = z.infer<typeof kill>;
export type CheckStep = z.infer<typeof check>;
export type Observe = z.infer<typeof observe>;
export type Counters = z.infer<typeof counters>;

/** One problem in a vector: where (a JSON path) and what. */
export interface VectorProblem {
  readonly path: string;
  readonly message: string;
}

/** `steps[0].src` from zod's path segments. */
export function jsonPath(path: ReadonlyArray<PropertyKey>): string {
  let s = '';
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`;
    else {
      const key = String(k);
      s += /^[A-Za-z_$][\w$-]*$/.test(key) ? (s ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return s || '(the whole file)';
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let cur: unknown = root;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k as string];
  }
  return cur;
}

/**
 * Check a parsed JSON value against the vector schema. Returns the vector, or every problem
 * with its path; cross-references (a segment naming a host the file lacks, a release of an id
 * no connect opened) are checked too.
 */
export function checkVector(v: unknown): { ok: true; vector: Vector } | { ok: false; problems: VectorProblem[] } {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const f = (v as { format?: unknown }).format;
    if (f !== 'lvsim-oracle-vector/1' && f !== 'lvsim-oracle-vector/2') {
      return { ok: false, problems: [{ path: 'format', message: `found ${describe(f)}, expected "lvsim-oracle-vector/1" or "lvsim-oracle-vector/2"` }] };
    }
  }
  const r = vectorSchema.safeParse(v);
  if (!r.success) {
    const problems = r.error.issues.slice(0, 20).map(i => {
      const found = valueAt(v, i.path);
      const msg = i.code === 'invalid_union' && 'note' in i ? i.message : i.message;
      return { path: jsonPath(i.path), message: `found ${describe(found)}: ${msg.replace(/^Invalid input: /, '')}` };
    });
    return { ok: false, problems };
  }
  const vec = r.data;
  const problems: VectorProblem[] = [];
  vec.segments.forEach((seg, i) => seg.forEach((end, j) => {
    const h = end.split(':')[0]!;
    if (!(h in vec.hosts)) problems.push({ path: `segments[${i}][${j}]`, message: `found host "${h}", expected one of the hosts (${Object.keys(vec.hosts).join(', ')})` });
  }));
  const opened = new Set<string>();
  vec.steps.forEach((st, i) => {
    if ('host' in st && typeof st.host === 'string' && !(st.host in vec.hosts)) {
      problems.push({ path: `steps[${i}].host`, message: `found "${st.host}", expected one of the hosts (${Object.keys(vec.hosts).join(', ')})` });
    }
    if (st.do === 'connect') opened.add(st.id ?? `s${st.n}`);
    if (st.do === 'release') {
      const ids = st.ids ?? (st.id !== undefined ? [st.id] : []);
      ids.forEach((id, k) => {
        if (!opened.has(id)) problems.push({ path: st.ids ? `steps[${i}].ids[${k}]` : `steps[${i}].id`, message: `found "${id}", expected the id of an earlier connect step` });
      });
    }
  });
  if (problems.length) return { ok: false, problems };
  return { ok: true, vector: vec };
}

/** The fields each part of a vector may have: what the format defines and the replay models. */
const STEP_COMMON = ['n', 'do', 'at_ms', 'after', 'table', 'director2'];
const KNOWN_STEP: Record<string, { fields: string[]; expect?: string[] }> = {
  connect: { fields: ['id', 'src', 'mode', 'timeout_ms', 'bytes', 'expect'], expect: ['ok', 'rs', 'error', 'server_bytes', 'pmtu', 'snd_mss'] },
  release: { fields: ['id', 'ids', 'expect'], expect: ['ok', 'error', 'answer'] },
  exec: { fields: ['host', 'cmd', 'command'] },
  wait: { fields: ['ms'] },
  arping: { fields: ['host', 'dev', 'target', 'count', 'expect'], expect: ['replies_from', 'neigh_at_end'] },
  start: { fields: ['host', 'daemon', 'config', 'cmd', 'listen'] },
  kill: { fields: ['host', 'process', 'signal'] },
  check: { fields: ['expect'], expect: ['vip_on', 'router_neigh_vip'] },
};
const KNOWN: Record<string, readonly string[]> = {
  top: ['format', 'id', 'kernel', 'description', 'verdict', 'segments', 'hosts', 'steps', 'final', 'observe', 'racy', 'keepalived', 'final_director2'],
  host: ['setup', 'listen', 'files'],
  listen: ['proto', 'port', 'name'],
  final: ['ipvsadm-Ln', 'ipvsadm-Lnc', 'ipvsadm-stats'],
  director2: ['after', 'table'],
  observe: ['nstat', 'sniffed', 'icmp', 'martian_source_logged', 'route_mtu', 'iptables_counters', 'log', 'vrrp', 'garp'],
  icmp: ['at', 'dir', 'src', 'dst', 'type', 'code', 'mtu'],
  log: ['at_ms', 'msg'],
  vrrp: ['from', 'src', 'vrid', 'prio', 'count', 'first_ms', 'last_ms'],
  garp: ['at_ms', 'from', 'ip'],
};

/**
 * Every field of the vector that the format does not define, as its JSON path: the replay
 * refuses them rather than run without what they ask (a field it cannot read is a question it
 * would leave unanswered).
 */
export function unknownFields(v: Vector): string[] {
  const out: string[] = [];
  const keys = (o: unknown): string[] => (o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : []);
  const check = (o: unknown, known: readonly string[], path: PropertyKey[]) => {
    for (const k of keys(o)) if (!known.includes(k)) out.push(jsonPath([...path, k]));
  };
  check(v, KNOWN.top!, []);
  for (const [h, spec] of Object.entries(v.hosts)) {
    check(spec, KNOWN.host!, ['hosts', h]);
    (spec.listen ?? []).forEach((l, i) => check(l, KNOWN.listen!, ['hosts', h, 'listen', i]));
  }
  check(v.final, KNOWN.final!, ['final']);
  if (v.format === 'lvsim-oracle-vector/2') {
    check(v.final_director2, KNOWN.final!, ['final_director2']);
    const ob = v.observe;
    check(ob, KNOWN.observe!, ['observe']);
    for (const part of ['icmp', 'vrrp', 'garp'] as const) (ob?.[part] ?? []).forEach((x, i) => check(x, KNOWN[part]!, ['observe', part, i]));
    for (const [h, lines] of Object.entries(ob?.log ?? {})) lines.forEach((x, i) => check(x, KNOWN.log!, ['observe', 'log', h, i]));
  }
  v.steps.forEach((st, i) => {
    const k = KNOWN_STEP[st.do]!;
    check(st, [...STEP_COMMON, ...k.fields], ['steps', i]);
    if (k.expect) check((st as { expect?: unknown }).expect, k.expect, ['steps', i, 'expect']);
    check((st as { director2?: unknown }).director2, KNOWN.director2!, ['steps', i, 'director2']);
    if (st.do === 'start') check(st.listen, KNOWN.listen!, ['steps', i, 'listen']);
  });
  return out;
}
