/** Paths of the external tools, ensured by scripts/tools.sh (cached outside the clone). */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const toolsScript = fileURLToPath(new URL('../../scripts/tools.sh', import.meta.url));

export function toolPath(name: 'temporal' | 'test-server'): string {
  const fromEnv = name === 'temporal' ? process.env['STARMAP_TEMPORAL_CLI'] : process.env['STARMAP_TEST_SERVER'];
  if (fromEnv) return fromEnv;
  return execFileSync('bash', [toolsScript, name], { stdio: ['ignore', 'pipe', 'inherit'] }).toString().trim();
}
