/**
 * test/ui/url.test.ts: share links. A link's text is read whole, or, when the link is damaged
 * or inflates past the limit, as much as could be recovered with the reason; never silently
 * replaced by something else.
 */
import { describe, expect, it } from 'vitest';
import { deflateRawSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeText, encodeText, fromHash, toHash, MAX_TEXT_BYTES } from '../../src/ui/url';

const REF = readFileSync(join(__dirname, '../../scenarios/tun-different-subnets.yaml'), 'utf8');
const z = (text: string) => 'z' + deflateRawSync(Buffer.from(text)).toString('base64url');

describe('share link text', () => {
  it('round-trips a scenario through the hash', async () => {
    const h = await toHash({ text: REF, seed: 3, index: 40, tab: 'packet' });
    const v = await fromHash(h);
    expect(v).toMatchObject({ text: REF, seed: 3, index: 40, tab: 'packet' });
    expect(v.damage).toBeUndefined();
    expect(v.tooLarge).toBeUndefined();
    expect((await decodeText(await encodeText('a: ü\n'))).text).toBe('a: ü\n');
  });

  it('keeps the Firewall tab in a link', async () => {
    expect(await fromHash(await toHash({ scenario: 'fw-ipip-blocked', seed: 1, index: 12, tab: 'firewall' }))).toMatchObject({ scenario: 'fw-ipip-blocked', index: 12, tab: 'firewall' });
  });

  it('stops inflating at the limit and says so, however large the text would be', async () => {
    const line = '#' + 'x'.repeat(79) + '\n';
    const link = z(line.repeat(300_000)); // 24 MB of text in a link of about 110 KB
    expect(link.length).toBeLessThan(150_000);
    const d = await decodeText(link);
    expect(d.tooLarge).toBe(true);
    expect(d.text.length).toBe(MAX_TEXT_BYTES);
    expect(d.damage).toBeUndefined();
    const ok = await decodeText(z(line.repeat(100)));
    expect(ok.tooLarge).toBeUndefined();
    expect(ok.text).toBe(line.repeat(100));
  });

  it('keeps the text that inflated before a cut or corrupt deflate stream', async () => {
    const link = z(REF);
    const cut = await decodeText(link.slice(0, Math.floor(link.length * 0.6)));
    expect(cut.damage).toBe('the compressed text is corrupt');
    expect(cut.text.length).toBeGreaterThan(100);
    expect(REF.startsWith(cut.text)).toBe(true);
    const garbage = await decodeText('z' + 'A'.repeat(12));
    expect(garbage.damage).toBe('the compressed text is corrupt');
  });

  it('names the first character that is not base64url and keeps what precedes it', async () => {
    const link = z(REF);
    const d = await decodeText(link.slice(0, 700) + '%<' + link.slice(702));
    expect(d.damage).toBe(`character 700 of the encoded text ('%') is not base64url`);
    expect(d.text.length).toBeGreaterThan(100);
    expect(REF.startsWith(d.text)).toBe(true);
  });

  it('refuses an unknown encoding and bytes that are not UTF-8', async () => {
    expect((await decodeText('q' + 'AAAA')).damage).toMatch(/not with z \(deflated\) or p \(plain\)/);
    const notUtf8 = 'p' + Buffer.from([0x61, 0xff, 0x62]).toString('base64url');
    const d = await decodeText(notUtf8);
    expect(d.damage).toBe('the text is not UTF-8');
    expect(d.text).toBe('a\uFFFDb');
  });
});
