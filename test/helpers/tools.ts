/** Paths of the external tools, ensured by scripts/tools.sh (cached outside the clone). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const toolsScript = fileURLToPath(new URL('../../scripts/tools.sh', import.meta.url));

export function toolPath(name: 'temporal' | 'test-server' | 'chromium'): string {
  const fromEnv = process.env[{ temporal: 'STARMAP_TEMPORAL_CLI', 'test-server': 'STARMAP_TEST_SERVER', chromium: 'STARMAP_CHROMIUM' }[name]];
  if (fromEnv) return fromEnv;
  return execFileSync('bash', [toolsScript, name], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
}
