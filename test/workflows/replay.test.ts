/**
 * Replays every saved history (test/fixtures/histories, recorded by
 * `npm run history:save`) against the current workflow code. A change that
 * would break running tasks (a different command order without patched())
 * fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, expect, it } from 'vitest';
import { bundleWorkflows } from '../../temporal/bundle.js';

const dir = fileURLToPath(new URL('../fixtures/histories', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

let bundle: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  bundle = await bundleWorkflows();
});

it('has saved histories to replay', () => {
  expect(files.length).toBeGreaterThanOrEqual(4);
});

it.each(files)('replays %s with the current workflow code', async (file) => {
  const history: unknown = JSON.parse(readFileSync(join(dir, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: bundle }, history, `replay-${file.replace(/\.json$/, '')}`);
});
