/**
 * The fakes stand in for outside systems no contract exists for yet (SMS and
 * phone, payments, payouts, the content platforms, virtual numbers). In
 * production (NODE_ENV=production) a process refuses to start with a fake
 * unless STARMAP_ALLOW_FAKES=1 says it is meant (a staging or demo deployment):
 * a fake payout provider "pays" nobody, a fake payment provider confirms every
 * top-up itself.
 */
export class FakesRefused extends Error {
  constructor(readonly fakes: string[]) {
    super(
      `NODE_ENV=production but these outside systems are fakes: ${fakes.join(', ')}. ` +
        'Wire the real adapters, or set STARMAP_ALLOW_FAKES=1 if this deployment is meant to run on fakes (staging, demo).',
    );
    this.name = 'FakesRefused';
  }
}

/** Throws FakesRefused when `fakes` would run in production without STARMAP_ALLOW_FAKES=1; returns what to log otherwise. */
export function checkFakes(fakes: string[], env: Record<string, string | undefined> = process.env): string | null {
  if (fakes.length === 0) return null;
  if (env['NODE_ENV'] === 'production' && env['STARMAP_ALLOW_FAKES'] !== '1') throw new FakesRefused(fakes);
  return `running with fake outside systems: ${fakes.join(', ')}${env['NODE_ENV'] === 'production' ? ' (STARMAP_ALLOW_FAKES=1)' : ''}`;
}
