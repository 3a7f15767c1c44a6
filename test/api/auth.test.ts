/**
 * Bearer tokens (api/auth.ts): `verify` remembers a token whose signature it
 * checked, but a remembered token is still refused once it expires, and a token
 * that differs by one character is checked on its own.
 */
import { errors as joseErrors } from 'jose';
import { afterEach, expect, it, vi } from 'vitest';
import { createAuth } from '../../api/auth.js';

afterEach(() => {
  vi.useRealTimers();
});

it('a verified token is honoured until it expires, not after, however often it was seen', async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date('2026-06-01T00:00:00Z'));
  const auth = createAuth('x'.repeat(32));
  const token = await auth.sign({ role: 'client', id: 'cli_1' }, 60);
  for (let i = 0; i < 3; i++) expect(await auth.verify(token)).toEqual({ role: 'client', id: 'cli_1' });
  vi.setSystemTime(new Date('2026-06-01T00:00:59Z'));
  expect(await auth.verify(token)).toEqual({ role: 'client', id: 'cli_1' });
  vi.setSystemTime(new Date('2026-06-01T00:01:01Z'));
  await expect(auth.verify(token)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
  await expect(auth.verify(token)).rejects.toBeInstanceOf(joseErrors.JWTExpired);
});

it('a token changed in its signature or its claims is refused even after the genuine one was verified', async () => {
  const auth = createAuth('y'.repeat(32));
  const token = await auth.sign({ role: 'operator', id: 'opr_1' });
  await auth.verify(token);
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
  await expect(auth.verify(`${header}.${payload}.${flipped}`)).rejects.toThrow();
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, sub: 'opr_2' })).toString('base64url');
  await expect(auth.verify(`${header}.${forged}.${signature}`)).rejects.toThrow();
  // another secret's token for the same actor
  const other = await createAuth('z'.repeat(32)).sign({ role: 'operator', id: 'opr_1' });
  await expect(auth.verify(other)).rejects.toThrow();
  // the genuine token still passes
  expect(await auth.verify(token)).toEqual({ role: 'operator', id: 'opr_1' });
});
