/**
 * Headless Chromium (Debian's, ensured by scripts/tools.sh chromium) for tests
 * of pages: the DOM after scripts ran, and a screenshot kept as a test artefact.
 * Each run gets a fresh profile; the flags keep it off this machine's closed network.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { toolPath } from './tools.js';

const run = promisify(execFile);

/** Where screenshots are kept (git-ignored); CI can upload the folder. */
export const ARTEFACTS = join(process.cwd(), 'test-artefacts');

function flags(profile: string, budgetMs: number): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
    `--user-data-dir=${profile}`,
    `--virtual-time-budget=${budgetMs}`,
  ];
}

async function withProfile<T>(body: (profile: string) => Promise<T>): Promise<T> {
  const profile = mkdtempSync(join(tmpdir(), 'starmap-chromium-'));
  try {
    return await body(profile);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's DOM once its scripts ran (up to `budgetMs` of virtual time). */
export function renderedDom(url: string, budgetMs = 10_000): Promise<string> {
  return withProfile(async (profile) => {
    const { stdout } = await run(toolPath('chromium'), [...flags(profile, budgetMs), '--dump-dom', url], { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
    return stdout;
  });
}

/** Saves a screenshot of the page under test-artefacts/<name>.png and returns its path. */
export function screenshot(url: string, name: string, size = '1280,1600', budgetMs = 10_000): Promise<string> {
  mkdirSync(ARTEFACTS, { recursive: true });
  const file = join(ARTEFACTS, `${name}.png`);
  return withProfile(async (profile) => {
    await run(toolPath('chromium'), [...flags(profile, budgetMs), `--window-size=${size}`, '--hide-scrollbars', `--screenshot=${file}`, url], { timeout: 60_000 });
    return file;
  });
}
