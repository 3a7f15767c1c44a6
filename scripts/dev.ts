/** Local-development settings shared by `npm start`, `npm run token` and `npm run platform`. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Where `npm start` keeps its state (Temporal SQLite file, Postgres cluster, dev secrets). */
export const dataDir = (): string => resolve(process.env['STARMAP_DATA_DIR'] ?? join(repoRoot, '.data'));

export interface Secrets {
  jwtSecret: string;
  platformSecret: string;
}

/** Environment first; otherwise secrets generated once for this data folder (never committed). */
export function devSecrets(dir = dataDir()): Secrets {
  const fromEnv = { jwtSecret: process.env['STARMAP_JWT_SECRET'], platformSecret: process.env['STARMAP_PLATFORM_SECRET'] };
  if (fromEnv.jwtSecret && fromEnv.platformSecret) return fromEnv as Secrets;
  const file = join(dir, 'secrets.json');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const generated: Secrets = { jwtSecret: randomBytes(32).toString('base64url'), platformSecret: randomBytes(32).toString('base64url') };
    writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Secrets;
  return { jwtSecret: fromEnv.jwtSecret ?? stored.jwtSecret, platformSecret: fromEnv.platformSecret ?? stored.platformSecret };
}
