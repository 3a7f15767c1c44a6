/**
 * Workflow bundling shared by worker.ts and the tests. The project is ESM with
 * NodeNext resolution (imports name `.js`, the files are `.ts`): webpack's
 * extensionAlias maps them when the bundler reads the TypeScript sources.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** workflows/index.ts in the sources, workflows/index.js in a build (dist/). */
export function workflowsPath(): string {
  for (const ext of ['ts', 'js']) {
    const path = fileURLToPath(new URL(`../workflows/index.${ext}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('workflows/index not found');
}

export const bundlerOptions: Pick<BundleOptions, 'webpackConfigHook'> = {
  webpackConfigHook: (config) => {
    config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
    return config;
  },
};

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), ...bundlerOptions, logger: quietLogger });
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: noop };
