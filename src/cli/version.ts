/** cli/version.ts: lvsim's version, from package.json (bundled into dist/cli.mjs at build time). */
import pkg from '../../package.json' with { type: 'json' };

export const LVSIM_VERSION: string = pkg.version;
