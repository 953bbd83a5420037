/**
 * config/schema.ts: zod, as every schema in lvsim uses it. zod compiles object parsers with
 * `new Function` unless told not to, and even its probe for that is a violation of the page's
 * Content-Security-Policy (no eval): lvsim's schemas parse without generating code.
 */
import { z } from 'zod';

z.config({ jitless: true });

export { z };
