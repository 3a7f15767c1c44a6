/**
 * Where the worker takes its workflow code (temporal/bundle.ts workflowSource):
 * production runs a bundle made at build time; the sources bundle themselves.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { workflowSource, workflowsPath, writeWorkflowBundle } from '../../temporal/bundle.js';

const dir = mkdtempSync(join(tmpdir(), 'starmap-bundle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('runs from the sources (bundled by the worker) when no bundle is given', () => {
  expect(workflowSource({})).toMatchObject({ workflowsPath: workflowsPath() });
});

it('refuses a STARMAP_WORKFLOW_BUNDLE that does not exist, at start', () => {
  expect(() => workflowSource({ STARMAP_WORKFLOW_BUNDLE: join(dir, 'missing.js') })).toThrow(/no file/);
});

it('npm run build:workflows writes a bundle with every workflow, which STARMAP_WORKFLOW_BUNDLE selects', async () => {
  const path = join(dir, 'workflow-bundle.js');
  const bytes = await writeWorkflowBundle(path);
  expect(bytes).toBeGreaterThan(100_000);
  const code = readFileSync(path, 'utf8');
  for (const name of ['taskWorkflow', 'appealWorkflow', 'withdrawalWorkflow', 'metricsWorkflow']) expect(code).toContain(name);
  expect(workflowSource({ STARMAP_WORKFLOW_BUNDLE: path })).toEqual({ workflowBundle: { codePath: path } });
}, 60_000);
