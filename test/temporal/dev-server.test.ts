/**
 * #14: the dev server as every launcher starts it (temporal/devServer.ts
 * devServerArgs): the task workflow's search attributes are registered by the
 * server itself as it starts, so a workflow started with them at once is
 * accepted; and the search-attribute mapping is read from its cache, not from
 * SQLite at every start and upsert (the dev server's own default reads it each
 * time: ~40 persistence calls per lifecycle in bench:lifecycle --rpcs). Run
 * beside a dev server with the stock setting, so the count can be seen to fail.
 */
import { afterAll, expect, it } from 'vitest';
import { Client, type Connection } from '@temporalio/client';
import { devServerArgs } from '../../temporal/devServer.js';
import { TASK_SEARCH_ATTRIBUTES, TaskStatusKey, NextDeadlineKey, TaskTypeKey } from '../../workflows/searchAttributes.js';
import { startDevServer, type DevServer } from '../helpers/devServer.js';

const started: DevServer[] = [];
afterAll(async () => {
  for (const server of started) await server.stop();
});

/** The frontend's and the history service's reads of the cluster metadata and namespaces from SQLite (where the search-attribute mapping lives). */
async function mappingReads(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('persistence_requests{') && /service_name="(frontend|history)"/.test(l) && /operation="(GetCurrentClusterMetadata|GetNamespace)"/.test(l))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** 20 workflow starts with the task's search attributes (no worker: they only wait), and the mapping reads they caused. */
async function startsWithSearchAttributes(connection: Connection, metricsUrl: string): Promise<number> {
  const client = new Client({ connection });
  const before = await mappingReads(metricsUrl);
  for (let i = 0; i < 20; i++) {
    await client.workflow.start('taskWorkflow', {
      taskQueue: 'nobody-polls',
      workflowId: `task-${i}`,
      typedSearchAttributes: [
        { key: TaskStatusKey, value: 'awaiting_acceptance' },
        { key: TaskTypeKey, value: 'douyin_video' },
        { key: NextDeadlineKey, value: new Date('2027-01-01T00:00:00Z') },
      ],
    });
  }
  await new Promise((r) => setTimeout(r, 2000)); // the history service writes the visibility records after the starts
  return (await mappingReads(metricsUrl)) - before;
}

it('#14: the dev server registers every task search attribute as it starts, keeps the mapping cached, and accepts starts with them at once', async () => {
  const [tuned, stock] = await Promise.all([startDevServer(devServerArgs()), startDevServer([])]);
  started.push(tuned, stock);
  const listed = await tuned.connection.operatorService.listSearchAttributes({ namespace: 'default' });
  for (const key of TASK_SEARCH_ATTRIBUTES) expect(Object.keys(listed.customAttributes ?? {})).toContain(key.name);

  // the stock dev server has none of them: register them the way a worker does, then compare
  const { ensureSearchAttributes } = await import('../../temporal/searchAttributes.js');
  await ensureSearchAttributes(stock.connection, 'default');

  const tunedReads = await startsWithSearchAttributes(tuned.connection, tuned.metricsUrl);
  const stockReads = await startsWithSearchAttributes(stock.connection, stock.metricsUrl);
  expect(stockReads).toBeGreaterThanOrEqual(40); // the frontend's check and the visibility record's: two per start at least
  expect(tunedReads).toBeLessThan(5);
}, 120_000);
