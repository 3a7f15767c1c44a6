/**
 * The OpenAPI document against the Express app it describes, without a stack:
 * every route the app serves is documented (and every documented operation is
 * served), and the Idempotency-Key the document asks for is the one the server
 * checks. `npm run test:fuzz` (schemathesis) checks the answers themselves.
 */
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { FakeContentPlatform } from '../../adapters/contentPlatform.js';
import { FakePaymentProvider } from '../../adapters/payments.js';
import { FakeTelephony } from '../../adapters/telephony.js';
import { createApp } from '../../api/app.js';
import { createAuth } from '../../api/auth.js';
import { IDEMPOTENCY_KEY_PATTERN } from '../../api/idempotency.js';
import { ID_PATTERN } from '../../api/ids.js';
import { buildOpenApi } from '../../api/openapi.js';
import type { Db } from '../../db/client.js';

interface Layer {
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path/{param}` for every route of the app (Express's own route table; HEAD comes with GET). */
function servedOperations(stack: Layer[]): string[] {
  const out: string[] = [];
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const path of paths) {
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') continue;
          out.push(`${method.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}')}`);
        }
      }
    } else if (layer.handle?.stack) {
      out.push(...servedOperations(layer.handle.stack));
    }
  }
  return out;
}

// the app is built, never listened on: no route runs, so its dependencies are never called
const app = createApp({
  db: {} as Db,
  temporal: {} as Client,
  auth: createAuth('x'.repeat(32)),
  taskQueue: 'unused',
  platformSecret: 'unused',
  contentPlatform: new FakeContentPlatform(),
  telephony: new FakeTelephony(),
  payments: new FakePaymentProvider(),
});
const served = [...new Set(servedOperations((app as unknown as { router: { stack: Layer[] } }).router.stack))].sort();

type Operation = { parameters?: { name: string; in: string; required?: boolean; schema?: { pattern?: string } }[]; requestBody?: { required?: boolean }; responses: Record<string, any> };
const doc = buildOpenApi() as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })));

describe('the OpenAPI document and the app', () => {
  it('documents every route the app serves, and serves every documented operation', () => {
    expect(served.length).toBeGreaterThan(50);
    expect(served.filter((s) => !operations.some((o) => o.key === s))).toEqual([]);
    expect(operations.map((o) => o.key).filter((k) => !served.includes(k))).toEqual([]);
  });

  it("asks for the Idempotency-Key the server checks, required where the route requires it", () => {
    const keyed = operations.flatMap(({ key, op }) => (op.parameters ?? []).filter((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key').map((p) => ({ key, p })));
    expect(keyed.length).toBeGreaterThan(20);
    for (const { key, p } of keyed) expect(p.schema?.pattern, key).toBe(IDEMPOTENCY_KEY_PATTERN.source);
    const required = keyed.filter(({ p }) => p.required).map(({ key }) => key).sort();
    // the routes that answer 400 idempotency-key-required without one (api/idempotency.ts requireIdempotencyKey)
    expect(required).toEqual(['POST /v1/creators/{creatorId}/cards', 'POST /v1/tasks', 'POST /v1/wallets/me/top-ups', 'POST /v1/wallets/me/withdrawals']);
  });

  it('gives path ids the patterns the routes check, and errors as problem+json', () => {
    for (const { key, op } of operations) {
      for (const p of (op.parameters ?? []).filter((q) => q.in === 'path')) {
        expect(p.schema?.pattern ?? (p.schema as { format?: string; enum?: unknown } | undefined)?.format ?? (p.schema as { enum?: unknown } | undefined)?.enum, `${key} ${p.name}`).toBeDefined();
        if (p.name === 'creatorId') expect(p.schema?.pattern).toBe(ID_PATTERN.source);
      }
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) >= 400 && !(key.startsWith('GET /readyz') || key.startsWith('GET /healthz'))) expect(Object.keys(response.content ?? {}), `${key} ${status}`).toEqual(['application/problem+json']);
      }
    }
  });
});
