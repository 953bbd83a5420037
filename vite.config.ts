/// <reference types="vitest/config" />
import { randomBytes } from 'node:crypto';
import { defineConfig, type Plugin } from 'vite';

/**
 * The pages' Content-Security-Policy: scripts, styles and workers from the page's own origin
 * only, no inline script, no inline style, no eval, no plugins, nothing sent anywhere else.
 * The dev server injects its CSS as <style> elements, so in dev (only) those carry a nonce
 * drawn when the server starts.
 */
export function contentSecurityPolicy(nonce?: string): string {
  const own = nonce ? `'self' 'nonce-${nonce}'` : `'self'`;
  return [
    `default-src 'none'`, `script-src ${own}`, `style-src ${own}`, `img-src 'self'`, `font-src 'self'`,
    `connect-src 'self'`, `worker-src 'self'`, `manifest-src 'self'`,
    `base-uri 'none'`, `form-action 'none'`, `object-src 'none'`,
  ].join('; ');
}

/**
 * Built pages carry the policy as their first <meta>, so it holds on any static host; the dev
 * server sends it as a header (its own client script is injected ahead of any meta).
 */
function csp(): Plugin {
  let nonce: string | undefined;
  return {
    name: 'lvsim-csp',
    config(_c, env) {
      if (env.command !== 'serve' || env.isPreview) return;
      nonce = randomBytes(16).toString('base64');
      return { html: { cspNonce: nonce }, server: { headers: { 'Content-Security-Policy': contentSecurityPolicy(nonce) } } };
    },
    transformIndexHtml: {
      order: 'pre',
      handler: () => nonce ? [] : [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy() }, injectTo: 'head-prepend' }],
    },
  };
}

export default defineConfig({
  root: '.',
  publicDir: 'public',
  plugins: [csp()],
  build: { outDir: 'dist/app', target: 'es2022', sourcemap: true, rollupOptions: { input: { main: 'index.html', compare: 'compare.html' } } },
  worker: { format: 'es' },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
