/**
 * Workflow bundling shared by worker.ts and the tests. The project is ESM with
 * NodeNext resolution (imports name `.js`, the files are `.ts`): webpack's
 * extensionAlias maps them when the bundler reads the TypeScript sources.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type BundleOptions, type WorkflowBundleOption, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

/** `<folder>/index.ts` in the sources, `<folder>/index.js` in a build (dist/). */
function indexOf(folder: 'workflows' | 'domain'): string {
  for (const ext of ['ts', 'js']) {
    const path = fileURLToPath(new URL(`../${folder}/index.${ext}`, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error(`${folder}/index not found`);
}

/** workflows/index.ts in the sources, workflows/index.js in a build (dist/). */
export const workflowsPath = (): string => indexOf('workflows');

export const bundlerOptions: Pick<BundleOptions, 'webpackConfigHook'> = {
  webpackConfigHook: (config) => {
    config.resolve = { ...config.resolve, extensionAlias: { '.js': ['.ts', '.js'] } };
    return config;
  },
};

/**
 * The task workflows' bundle options: the domain (domain/, pure: no workflow API, no clock, no randomness, no
 * state but the calendar's cache of its own frozen data) is preloaded, evaluated once per workflow thread's V8
 * context and shared, instead of once per workflow the thread creates (each new task, each replay after an
 * eviction). The SDK deep-freezes what it shares, so a shared module's exports cannot be changed by one workflow
 * for the others.
 */
export type StarmapBundlerOptions = Pick<BundleOptions, 'webpackConfigHook' | 'preloadModules'>;
export const starmapBundlerOptions = (): StarmapBundlerOptions => ({ ...bundlerOptions, preloadModules: [indexOf('domain')] });

export function bundleWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), ...starmapBundlerOptions(), logger: quietLogger });
}

/**
 * Where the worker gets its workflow code. Production runs a bundle made at
 * build time (`npm run build:workflows`, the Dockerfile's build stage), as
 * Temporal advises: webpack never runs in the worker, which starts faster and
 * keeps ~140 MB less resident (measured here: an idle worker 217 MB against
 * 359 MB when it bundles at start). The bundle is STARMAP_WORKFLOW_BUNDLE, or
 * `workflow-bundle.js` beside the compiled worker (dist/); without one (the
 * sources, tests) the worker bundles workflows/ itself.
 */
export type WorkflowSource = { workflowBundle: WorkflowBundleOption } | { workflowsPath: string; bundlerOptions: StarmapBundlerOptions };

export function workflowSource(env: NodeJS.ProcessEnv = process.env): WorkflowSource {
  const given = env['STARMAP_WORKFLOW_BUNDLE'];
  if (given) {
    if (!existsSync(given)) throw new Error(`STARMAP_WORKFLOW_BUNDLE: no file ${given} (npm run build:workflows makes it)`);
    return { workflowBundle: { codePath: given } };
  }
  const beside = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(beside)) return { workflowBundle: { codePath: beside } };
  return { workflowsPath: workflowsPath(), bundlerOptions: starmapBundlerOptions() };
}

/** Writes the workflow bundle to `path` (npm run build:workflows); returns its size in bytes. */
export async function writeWorkflowBundle(path: string): Promise<number> {
  const { code } = await bundleWorkflows();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, code);
  return Buffer.byteLength(code);
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: (m: string) => console.warn(m), error: (m: string) => console.error(m), log: noop };
