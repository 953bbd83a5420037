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
  readonly tab?: 'lesson' | 'kernel' | 'packet';
}

function b64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
  return Uint8Array.from(b, c => c.charCodeAt(0));
}

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream));
  return new Uint8Array(await out.arrayBuffer());
}

export async function encodeText(text: string): Promise<string> {
  const raw = new TextEncoder().encode(text);
  if (typeof CompressionStream === 'function') return 'z' + b64url(await pipe(raw, new CompressionStream('deflate-raw')));
  return 'p' + b64url(raw);
}

export async function decodeText(s: string): Promise<string> {
  const body = unb64url(s.slice(1));
  if (s[0] === 'z') return new TextDecoder().decode(await pipe(body, new DecompressionStream('deflate-raw')));
  return new TextDecoder().decode(body);
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
  const t = p.get('text');
  if (t) { try { text = await decodeText(t); } catch { text = undefined; } }
  const tab = p.get('tab');
  return {
    scenario: p.get('s') ?? undefined, text, seed: num('seed'), index: num('at'), pick: num('pick'),
    tab: tab === 'kernel' || tab === 'packet' ? tab : undefined,
  };
}
