/**
 * ui/compare/jitless.ts: imported first by the compare page, before anything that loads zod.
 * zod probes for eval with a caught `new Function` when its schemas are built; under the page's
 * CSP (no eval) that probe is still reported as a violation, so zod is told up front that it
 * runs without eval.
 */
import { config } from 'zod';

config({ jitless: true });
