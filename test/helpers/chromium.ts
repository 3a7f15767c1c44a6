/**
 * Headless Chromium (Debian's, ensured by scripts/tools.sh chromium) driven by
 * playwright-core for tests of pages: the DOM once the page shows what the test
 * waits for, and a screenshot kept as a test artefact. Each run gets a fresh
 * profile; the flags keep it off this machine's closed network.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { toolPath } from './tools.js';

/** Where screenshots are kept (git-ignored); CI can upload the folder. */
export const ARTEFACTS = join(process.cwd(), 'test-artefacts');

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

export interface Visit {
  /** The page's DOM when `waitFor` was found (or the page loaded). */
  dom: string;
  /** The screenshot's path, when one was asked for. */
  screenshot: string | null;
}

/**
 * Opens `url` in a fresh headless Chromium, waits until the page shows
 * `waitFor` (text, after clicking the `click` text if given; pages that render with scripts and keep polling, like the
 * Temporal UI, never go idle), optionally saves a full-page screenshot under
 * test-artefacts/<name>.png, and returns the DOM.
 */
export async function visit(url: string, options: { click?: string; waitFor?: string; screenshot?: string; width?: number; height?: number; timeoutMs?: number } = {}): Promise<Visit> {
  const browser = await chromium.launch({ executablePath: toolPath('chromium'), headless: true, args: FLAGS });
  try {
    const page: Page = await browser.newPage({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 } });
    await page.goto(url, { waitUntil: 'load', timeout: options.timeoutMs ?? 30_000 });
    // e.g. a tab of the page: clicked as a user would
    if (options.click) await page.getByText(options.click, { exact: true }).first().click({ timeout: options.timeoutMs ?? 30_000 });
    if (options.waitFor) await waitForText(page, options.waitFor, options.timeoutMs ?? 30_000);
    let file: string | null = null;
    if (options.screenshot) {
      mkdirSync(ARTEFACTS, { recursive: true });
      file = join(ARTEFACTS, `${options.screenshot}.png`);
      await page.screenshot({ path: file, fullPage: true });
    }
    return { dom: await allFrames(page), screenshot: file };
  } finally {
    await browser.close();
  }
}

/** The DOM of the page and of its frames (the Temporal UI renders markdown in sandboxed iframes). */
async function allFrames(page: Page): Promise<string> {
  const parts = await Promise.all(page.frames().map((f) => f.content().catch(() => '')));
  return parts.join('\n');
}

async function waitForText(page: Page, text: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await allFrames(page)).includes(text)) {
    if (Date.now() > until) throw new Error(`the page never showed "${text}" within ${timeoutMs} ms`);
    await page.waitForTimeout(250);
  }
}
