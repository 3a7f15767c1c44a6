/**
 * How every launcher of the Temporal dev server (scripts/start.ts, the fault
 * test, the benchmarks) configures it beyond its defaults.
 *
 * The dev server sets `system.forceSearchAttributesCacheRefreshOnRead` to true
 * (a production server's default is false): so that a search attribute added a
 * moment ago is usable at once, every read of the search-attribute mapping goes
 * to its SQLite file. Every workflow start with search attributes and every
 * upsert pays for it: `bench:lifecycle --rpcs` counted, per lifecycle,
 * ~31 `GetCurrentClusterMetadata` and ~11 `GetNamespace` persistence calls in
 * the history service for Starmap and bare+LA+SA (8 and 0 for bare+LA), about
 * half of all the dev server's persistence calls; with the setting false they
 * are gone (99 → 48 calls per Starmap lifecycle) and bare+LA+SA runs at ×0.96 of
 * bare+LA instead of ×0.76 (README "Benchmarks", session 19).
 *
 * With the cache kept, a search attribute registered while the server runs is
 * refused for a moment ("no mapping defined", about a second: why an earlier
 * session left the setting alone, registering at the worker's start and ordering
 * at once); so the dev server is given the task workflow's search attributes
 * with `--search-attribute`, which the CLI writes into the namespace's
 * configuration when it creates its SQLite file, before the server serves
 * anything. The worker's `ensureSearchAttributes` still runs at its start (for
 * a cluster, docker-compose, the time-skipping server) and finds them there.
 * On a dev database created before an attribute existed (a later version
 * adding one), the CLI does not add it to the existing namespace: the worker
 * registers it, and for that moment a start or upsert naming it is refused
 * (an upsert's workflow task is retried) — once per new attribute; deleting
 * the dev database (`.data/`, or `STARMAP_DATA_DIR`) avoids even that.
 */
import { SearchAttributeType } from '@temporalio/common';
import { TASK_SEARCH_ATTRIBUTES } from '../workflows/searchAttributes.js';

/** The CLI's names of the search attribute types Starmap uses. */
const CLI_TYPES = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
} as const;

/** Arguments for `temporal server start-dev` after its own (ports, database file, log level). */
export function devServerArgs(): string[] {
  return [
    ...TASK_SEARCH_ATTRIBUTES.flatMap((key) => ['--search-attribute', `${key.name}=${CLI_TYPES[key.type]}`]),
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=false',
  ];
}
