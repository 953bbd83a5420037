/**
 * ui/url.ts: the shareable view. The hash names the scenario file (or carries the edited
 * text, deflated and base64url-encoded), the seed and the player's position (record index),
 * so opening the link re-runs the same deterministic simulation and lands on the same event.
 */
export interface ViewState {
  /** Scenario file name without directory and extension, when unedited. */
  readonly scenario?: string;
  /** Edited text, when the view shows an edited scenario. */
  readonly text?: string;
  readonly seed?: number;
  readonly index?: number;
  /** The record open in the packet inspector, and the side tab, when not the defaults. */
  readonly pick?: number;
  readonly tab?: 'lesson' | 'kernel' | 'packet' | 'console' | 'firewall';
  /** When the link's text is damaged or too large: what is wrong (see DecodedText). */
  readonly damage?: string;
  readonly tooLarge?: boolean;
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Largest scenario text a link may carry once inflated: scenarios are a few KB, and the
 *  parser promises an answer in well under a second only below this size. */
export const MAX_TEXT_BYTES = 1 << 20;

const B64URL = /^[A-Za-z0-9_-]*$/;

/** The bytes of a base64url string, or of its longest valid prefix when it is damaged. */
function unb64url(s: string): { bytes: Uint8Array; damage?: string } {
  let body = s;
  let damage: string | undefined;
  if (!B64URL.test(s)) {
    const at = s.search(/[^A-Za-z0-9_-]/);
    damage = `character ${at + 1} of the encoded text ('${s[at]}') is not base64url`;
    body = s.slice(0, at);
  }
  // One leftover character carries less than a byte: a cut link.
  if (body.length % 4 === 1) { damage ??= 'the encoded text is cut short'; body = body.slice(0, -1); }
  const b = atob(body.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((body.length + 3) % 4));
  return { bytes: Uint8Array.from(b, c => c.charCodeAt(0)), damage };
}

async function pipe(bytes: Uint8Array, stream: CompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

/**
 * Inflate at most `limit` bytes. Reading stops at the limit, so a small link that inflates to
 * gigabytes costs no more than the limit; a corrupt stream keeps what inflated before the error.
 */
async function inflate(bytes: Uint8Array, limit: number): Promise<{ bytes: Uint8Array; damage?: string; tooLarge?: boolean }> {
  const ds = new DecompressionStream('deflate-raw');
  const writer = ds.writable.getWriter();
  writer.write(bytes as BufferSource).catch(() => {});
  writer.close().catch(() => {});
  const reader = ds.readable.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  let damage: string | undefined;
  let tooLarge = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (n + value.length > limit) {
        chunks.push(value.subarray(0, limit - n));
        n = limit;
        tooLarge = true;
        await reader.cancel().catch(() => {});
        break;
      }
      chunks.push(value);
      n += value.length;
    }
  } catch {
    damage = 'the compressed text is corrupt';
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return { bytes: out, damage, tooLarge };
}

/** What a link's text decodes to: the text, or as much of it as could be recovered and why not all. */
export interface DecodedText {
  readonly text: string;
  /** Set when the link is damaged: what is wrong with it. `text` holds what could be recovered. */
  readonly damage?: string;
  /** Set when the text inflates past MAX_TEXT_BYTES: `text` holds the first MAX_TEXT_BYTES. */
  readonly tooLarge?: boolean;
}

export async function encodeText(text: string): Promise<string> {
  const raw = new TextEncoder().encode(text);
  if (typeof CompressionStream === 'function') return 'z' + b64url(await pipe(raw, new CompressionStream('deflate-raw')));
  return 'p' + b64url(raw);
}

export async function decodeText(s: string): Promise<DecodedText> {
  const kind = s[0];
  if (kind !== 'z' && kind !== 'p') return { text: '', damage: `it starts with '${s.slice(0, 1)}', not with z (deflated) or p (plain)` };
  const b = unb64url(s.slice(1));
  let damage = b.damage;
  let bytes = b.bytes;
  let tooLarge = false;
  if (kind === 'z') {
    const r = await inflate(bytes, MAX_TEXT_BYTES);
    bytes = r.bytes;
    // A cut base64 text also cuts the deflate stream: report the first cause.
    damage ??= r.damage;
    tooLarge = !!r.tooLarge;
  } else if (bytes.length > MAX_TEXT_BYTES) {
    bytes = bytes.subarray(0, MAX_TEXT_BYTES);
    tooLarge = true;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    text = new TextDecoder().decode(bytes);
    // A cut stream ends inside a character: that one is lost, the rest is text.
    const cutChar = (damage || tooLarge) && text.indexOf('\uFFFD') === text.length - 1;
    text = cutChar ? text.slice(0, -1) : text;
    if (!cutChar) damage ??= 'the text is not UTF-8';
  }
  return { text, damage, tooLarge: tooLarge || undefined };
}

export async function toHash(v: ViewState): Promise<string> {
  const p = new URLSearchParams();
  if (v.text !== undefined) p.set('text', await encodeText(v.text));
  else if (v.scenario) p.set('s', v.scenario);
  if (v.seed !== undefined) p.set('seed', String(v.seed));
  if (v.index !== undefined) p.set('at', String(v.index));
  if (v.pick !== undefined) p.set('pick', String(v.pick));
  if (v.tab && v.tab !== 'lesson') p.set('tab', v.tab);
  return '#' + p.toString();
}

export async function fromHash(hash: string): Promise<ViewState> {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const num = (k: string) => { const x = p.get(k); return x !== null && /^\d+$/.test(x) ? Number(x) : undefined; };
  let text: string | undefined;
  let damage: string | undefined;
  let tooLarge: boolean | undefined;
  const t = p.get('text');
  if (t !== null) ({ text, damage, tooLarge } = await decodeText(t));
  const tab = p.get('tab');
  return {
    scenario: p.get('s') ?? undefined, text, damage, tooLarge, seed: num('seed'), index: num('at'), pick: num('pick'),
    tab: tab === 'kernel' || tab === 'packet' || tab === 'console' || tab === 'firewall' ? tab : undefined,
  };
}
