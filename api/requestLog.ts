/**
 * One log line per answered request: request id (X-Request-Id, set first in
 * api/app.ts), method, route template, status, duration, and where known the
 * actor (`role:id`) and the task. Never headers or bodies: tokens, passwords
 * and phone numbers travel there. Health probes and scrapes log at debug, so
 * an orchestrator polling every few seconds does not drown the log.
 */
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from '../ops/log.js';
import { routeTemplate, statusOf } from './metrics.js';

const QUIET = new Set(['/livez', '/readyz', '/healthz', '/metrics']);

/** The task a request is about: the route's :taskId, or the task a POST /v1/tasks created (its Location). */
export function taskIdOf(req: Request, res: Response, route: string): string | undefined {
  const segments = route.split('/');
  const at = segments.indexOf(':taskId');
  if (at > 0) {
    const value = req.path.split('/')[at];
    if (value) return value;
  }
  const location = res.getHeader('location');
  const created = typeof location === 'string' ? /^\/v1\/tasks\/([^/?#]+)$/.exec(location) : null;
  return created?.[1];
}

export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('close', () => {
      const route = routeTemplate(req, req.baseUrl ?? '');
      const status = statusOf(res);
      const actor = req.actor ? `${req.actor.role}:${req.actor.id}` : undefined;
      const taskId = taskIdOf(req, res, route);
      const line = {
        reqId: res.locals['requestId'] as string | undefined,
        method: req.method,
        route,
        status,
        ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
        ...(actor ? { actor } : {}),
        ...(taskId ? { taskId } : {}),
        ...(typeof res.locals['problemSlug'] === 'string' ? { problem: res.locals['problemSlug'] } : {}),
      };
      if (status >= 500) logger.warn(line, 'request failed');
      else if (QUIET.has(req.path) && status < 400) logger.debug(line, 'request');
      else logger.info(line, 'request');
    });
    next();
  };
}
