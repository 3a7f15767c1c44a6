/**
 * `npm run build:workflows [path]`: the workflow bundle the production worker runs
 * (temporal/bundle.ts workflowSource), by default dist/workflow-bundle.js — beside
 * the compiled worker, where it finds it. Rebuild it with the code it belongs to.
 */
import { join } from 'node:path';
import { writeWorkflowBundle } from '../temporal/bundle.js';
import { repoRoot } from './dev.js';

const path = process.argv[2] ?? join(repoRoot, 'dist/workflow-bundle.js');
const started = Date.now();
console.log(`[bundle] bundling workflows/ into ${path} ...`);
const bytes = await writeWorkflowBundle(path);
console.log(`[bundle] ${(bytes / 1e6).toFixed(2)} MB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
