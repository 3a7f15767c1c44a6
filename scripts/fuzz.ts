/**
 * `npm run test:fuzz` (issue #12, item 11; scripts/fuzz.sh installs schemathesis
 * and runs this): the real stack — the Temporal dev server (the project's CLI),
 * embedded PostgreSQL, the worker and the API on a free port, as the API tests
 * start it (test/helpers/apiStack.ts) — then schemathesis against
 * /openapi.json with `--checks all`, once per role (client, creator, operator)
 * with that role's token. Each role's run is bounded (examples per operation,
 * --max-time, and a hard kill). Prints a per-role summary; exits 1 on any
 * response >= 500, any failed check, or a run that did not finish.
 *
 *   node --import tsx scripts/fuzz.ts [--keep-reports] [-- <more schemathesis run options>]
 *   STARMAP_SCHEMATHESIS   the schemathesis executable (scripts/fuzz.sh sets it)
 *   STARMAP_FUZZ_EXAMPLES  examples per operation and phase (default 10)
 *   STARMAP_FUZZ_SECONDS   schemathesis --max-time per role (default 60; killed 30 s later)
 *   STARMAP_FUZZ_ROLES     comma-separated subset of client,creator,operator
 *   STARMAP_FUZZ_SEED      schemathesis --seed (default 1)
 *   STARMAP_FUZZ_VERBOSE   print schemathesis's output also for a role that passed
 *   STARMAP_FUZZ_WORKERS   schemathesis --workers (default 2)
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { UserActor } from '../api/auth.js';
import { addVirtualNumbers } from '../db/creators.js';
import { paidTopUp } from '../db/ledger.js';
import { startApiStack } from '../test/helpers/apiStack.js';

const ROLES = ['client', 'creator', 'operator'] as const;
type Role = (typeof ROLES)[number];

const schemathesis = process.env['STARMAP_SCHEMATHESIS'] ?? 'schemathesis';
const examples = Number(process.env['STARMAP_FUZZ_EXAMPLES'] ?? 10);
const maxSeconds = Number(process.env['STARMAP_FUZZ_SECONDS'] ?? 60);
/** schemathesis --workers; scripts/fuzz.sh sets 1 when its Python has cpython gh-106905 (threads racing in ast.parse). */
const workers = Number(process.env['STARMAP_FUZZ_WORKERS'] ?? 2);
const roles = (process.env['STARMAP_FUZZ_ROLES']?.split(',') ?? [...ROLES]) as Role[];
const keepReports = process.argv.includes('--keep-reports');
/** Anything after `--` goes to schemathesis run as it is (e.g. -- --include-name 'GET /v1/tasks'). */
const passThrough = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : [];
// thousands of requests: the API's request lines (ops/log.ts) would bury the summary; 500s still log at error
process.env['LOG_LEVEL'] ??= 'warn';
const configFile = fileURLToPath(new URL('./schemathesis.toml', import.meta.url));

const log = (line: string) => console.log(`[fuzz] ${line}`);
// the Temporal runtime's INFO lines would drown the report
Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } } });

interface RoleResult {
  role: Role;
  exitCode: number | null;
  timedOut: boolean;
  seconds: number;
  /** Distinct failures schemathesis reported (check name + operation + status). */
  failures: string[];
  serverErrors: number;
  requests: number;
}

/** Runs schemathesis for one role; its report (ndjson events) says what failed. */
async function fuzzRole(role: Role, base: string, token: string, dir: string): Promise<RoleResult> {
  const report = join(dir, `${role}.ndjson`);
  const args = [
    '--config-file',
    configFile,
    'run',
    `${base}/openapi.json`,
    '--url',
    base,
    '--checks',
    'all',
    '-H',
    `Authorization: Bearer ${token}`,
    '--max-examples',
    String(examples),
    '--max-time',
    String(maxSeconds),
    '--workers',
    String(workers),
    '--seed',
    process.env['STARMAP_FUZZ_SEED'] ?? '1',
    '--generation-database',
    'none',
    '--report',
    'ndjson',
    '--report-ndjson-path',
    report,
    '--no-color',
    '--output-truncate',
    'true',
    ...passThrough,
  ];
  const started = Date.now();
  // run in the throwaway folder: schemathesis and hypothesis keep caches in the working directory
  const child = spawn(schemathesis, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  let timedOut = false;
  const killer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, (maxSeconds + 30) * 1000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  clearTimeout(killer);
  const seconds = (Date.now() - started) / 1000;
  const { failures, serverErrors, requests } = readReport(report);
  if (failures.length > 0 || exitCode !== 0 || process.env['STARMAP_FUZZ_VERBOSE']) {
    console.log(output.split('\n').map((l) => `  ${role} | ${l}`).join('\n'));
  }
  return { role, exitCode, timedOut, seconds, failures, serverErrors, requests };
}

/** Failures and response counts from schemathesis's ndjson event report. */
function readReport(path: string): { failures: string[]; serverErrors: number; requests: number } {
  const failures = new Set<string>();
  let serverErrors = 0;
  let requests = 0;
  if (!existsSync(path)) return { failures: [], serverErrors: 0, requests: 0 };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      continue;
    }
    walk(event, (node) => {
      const n = node as { response?: { status_code?: number }; status_code?: number; failure_info?: unknown; status?: string; name?: string; check?: string; title?: string };
      // an interaction: a request and its response
      if (n.response && typeof n.response.status_code === 'number') {
        requests++;
        if (n.response.status_code >= 500) serverErrors++;
      }
      // a failed check
      if (n.status === 'failure' && typeof n.name === 'string') {
        const f = node as { name: string; failure_info?: { failure?: { title?: string; operation?: string }; code_sample?: string }; response?: { status_code?: number } };
        const title = f.failure_info?.failure?.title ?? '';
        failures.add(`${f.name}${title ? `: ${title}` : ''}${f.failure_info?.failure?.operation ? ` [${f.failure_info.failure.operation}]` : ''}`);
      }
    });
  }
  return { failures: [...failures].sort(), serverErrors, requests };
}

function walk(value: unknown, visit: (node: object) => void, depth = 0): void {
  if (depth > 40 || value === null || typeof value !== 'object') return;
  visit(value);
  for (const v of Array.isArray(value) ? value : Object.values(value)) walk(v, visit, depth + 1);
}

async function main(): Promise<void> {
  const started = Date.now();
  log('starting the stack (Temporal dev server, embedded PostgreSQL, worker, API)');
  const stack = await startApiStack();
  const dir = mkdtempSync(join(tmpdir(), 'starmap-fuzz-'));
  const results: RoleResult[] = [];
  try {
    log(`API at ${stack.baseUrl} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    const actors: Record<Role, UserActor> = {
      client: await stack.account({ role: 'client', id: `fuzz-client-${randomUUID().slice(0, 8)}` }),
      creator: await stack.creator({ role: 'creator', id: `fuzz-creator-${randomUUID().slice(0, 8)}` }, { douyin_video: 10_000 }),
      operator: await stack.account({ role: 'operator', id: `fuzz-operator-${randomUUID().slice(0, 8)}` }),
    };
    const db = stack.postgres.database.db;
    await db.transaction((tx) => paidTopUp(tx, actors.client.id, 10_000_000, `tu_fuzz-${randomUUID()}`));
    // a deployment has a virtual-number pool (an empty one answers 503 virtual-numbers-exhausted, documented)
    await addVirtualNumbers(db, Array.from({ length: 50 }, (_, i) => `+8617000000${String(i).padStart(3, '0')}`));
    for (const role of roles) {
      if (!ROLES.includes(role)) throw new Error(`unknown role ${role}`);
      const token = await stack.auth.sign(actors[role]);
      log(`${role}: schemathesis --checks all, ${examples} examples per operation, at most ${maxSeconds} s, ${workers} worker(s)`);
      const result = await fuzzRole(role, stack.baseUrl, token, dir);
      results.push(result);
      log(`${role}: ${result.requests} requests, ${result.serverErrors} responses >= 500, ${result.failures.length} distinct failures, exit ${result.exitCode}${result.timedOut ? ' (killed: over time)' : ''}, ${result.seconds.toFixed(1)} s`);
    }
  } finally {
    await stack.stop().catch((err: unknown) => console.error('[fuzz] stopping the stack failed:', err));
    if (keepReports) log(`reports kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  console.log('\n[fuzz] summary');
  console.log('  role      requests  >=500  failures  exit  seconds');
  for (const r of results) {
    console.log(`  ${r.role.padEnd(9)} ${String(r.requests).padStart(8)}  ${String(r.serverErrors).padStart(5)}  ${String(r.failures.length).padStart(8)}  ${String(r.exitCode).padStart(4)}  ${r.seconds.toFixed(1).padStart(7)}`);
    for (const f of r.failures) console.log(`    - ${f}`);
  }
  const bad = results.filter((r) => r.serverErrors > 0 || r.failures.length > 0 || r.exitCode !== 0 || r.timedOut);
  log(`total ${((Date.now() - started) / 1000).toFixed(1)} s: ${bad.length === 0 ? 'PASS' : `FAIL (${bad.map((r) => r.role).join(', ')})`}`);
  process.exit(bad.length === 0 ? 0 : 1);
}

main().catch((err: unknown) => {
  console.error('[fuzz] failed:', err);
  process.exit(1);
});
