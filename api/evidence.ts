/**
 * R-EVIDENCE: a task's dispute evidence bundle, for its client, its creator,
 * the creator's MCN and operators; anyone else gets the 404 of a task that does
 * not exist.
 *
 *   GET /v1/tasks/{id}/evidence        the JSON document (RFC 8785 bytes) with its SHA-256
 *                                      in Repr-Digest (RFC 9530), X-Evidence-SHA256 and the ETag
 *   GET /v1/tasks/{id}/evidence-link   a link to the printable page, valid 5 minutes
 *   GET /v1/tasks/{id}/evidence.html   the printable page: with a bearer token, or the link's token
 *
 * A browser cannot send a bearer token when it opens a page (a new tab, a print
 * dialog, a PDF printer), so the frontend asks for a link and opens it. The
 * link's token is signed like a session token but for another audience and for
 * this task's evidence only: it is no bearer token, opens nothing else, lives 5
 * minutes, and the account and its right to see the task are checked again
 * when it is used. The page sends no Referer, loads nothing and runs nothing.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { errors as joseErrors } from 'jose';
import type { Db } from '../db/client.js';
import { isActiveAccount } from '../db/accounts.js';
import { evidenceRecordOf } from '../db/evidence.js';
import { actorOf, authenticate, type Auth, type UserActor } from './auth.js';
import { exportEvidence, type EvidenceExport } from './evidenceBundle.js';
import { renderEvidenceHtml } from './evidenceHtml.js';
import { badRequest, notFound, unauthorized } from './problems.js';
import { EvidencePageQuery, TaskIdParam } from './schemas.js';
import { visibleTaskOf } from './tasks.js';

/** How long a link to the printable page may be opened. */
export const EVIDENCE_LINK_TTL_SECONDS = 5 * 60;
const scopeOf = (taskId: string) => `evidence:${taskId}`;

interface EvidenceDeps {
  db: Db;
  auth: Auth;
}

const PARTIES = ['client', 'creator', 'mcn', 'operator'] as const;

/** The bundle of the task in the path, if `actor` may see the task (404 otherwise). */
async function exportFor(db: Db, req: Request, actor: UserActor): Promise<EvidenceExport> {
  const row = await visibleTaskOf(db, req, actor);
  const record = await evidenceRecordOf(db, row.id);
  if (!record) throw notFound(`No task ${row.id}`);
  return exportEvidence(record);
}

/** The JSON document and the link: behind the app's authentication. */
export function evidenceRoutes({ db, auth }: EvidenceDeps): Router {
  const router = Router();

  router.get('/v1/tasks/:taskId/evidence', async (req, res) => {
    const ex = await exportFor(db, req, actorOf(req, ...PARTIES));
    // the exact bytes that were hashed: no re-serialisation by res.json
    res
      .status(200)
      .set({
        'Content-Type': 'application/json; charset=utf-8',
        'Repr-Digest': `sha-256=:${ex.sha256Base64}:`,
        'X-Evidence-SHA256': ex.sha256Hex,
        'X-Evidence-Generated-At': new Date().toISOString(),
        ETag: `"sha256-${ex.sha256Hex}"`,
        'Cache-Control': 'private, no-store',
        'Content-Disposition': `inline; filename="evidence-${ex.document.task.id}.json"`,
      })
      .send(ex.bytes);
  });

  router.get('/v1/tasks/:taskId/evidence-link', async (req, res) => {
    const actor = actorOf(req, ...PARTIES);
    const row = await visibleTaskOf(db, req, actor);
    const token = await auth.signLink(actor, scopeOf(row.id), EVIDENCE_LINK_TTL_SECONDS);
    const expiresAt = new Date(Date.now() + EVIDENCE_LINK_TTL_SECONDS * 1000).toISOString();
    res.set('Cache-Control', 'private, no-store').json({ url: `/v1/tasks/${row.id}/evidence.html?token=${token}`, expiresAt });
  });

  return router;
}

/**
 * The printable page: mounted before the app's authentication because it also
 * takes the link's token (`?token=`); without one it authenticates the bearer
 * token as every other route does. With one, the token is the credential.
 */
export function evidencePageRoutes({ db, auth }: EvidenceDeps): Router {
  const router = Router();
  const bearer = authenticate(auth, db);

  async function linkOrBearer(req: Request, res: Response, next: NextFunction): Promise<void> {
    const query = EvidencePageQuery.safeParse(req.query);
    if (!query.success) throw badRequest('Give one link token', { code: 'invalid-link-token' });
    const { token } = query.data;
    if (token === undefined) return bearer(req, res, next);
    const { taskId } = TaskIdParam.parse(req.params);
    let actor: UserActor;
    try {
      actor = await auth.verifyLink(token, scopeOf(taskId));
    } catch (err) {
      throw unauthorized(err instanceof joseErrors.JWTExpired ? 'The link has expired; ask for a new one' : 'The link is not valid for this page');
    }
    if (!(await isActiveAccount(db, actor.id, actor.role))) throw unauthorized('The account does not exist or is disabled');
    req.actor = actor;
    next();
  }

  router.get('/v1/tasks/:taskId/evidence.html', linkOrBearer, async (req, res) => {
    const actor = actorOf(req, ...PARTIES);
    const ex = await exportFor(db, req, actor);
    const generatedAt = new Date().toISOString();
    res
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        // nothing to load, nothing to run: the page is its own inline CSS
        'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'Referrer-Policy': 'no-referrer',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'private, no-store',
        // the digest of the JSON document the page shows (not of the page)
        'X-Evidence-SHA256': ex.sha256Hex,
        'X-Evidence-Generated-At': generatedAt,
      })
      .send(renderEvidenceHtml(ex, { generatedAt, exportedBy: actor }));
  });

  return router;
}
