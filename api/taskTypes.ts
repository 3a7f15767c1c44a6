/** The task-type catalogue, so a frontend draws the right steps and limits per type. */
import { Router } from 'express';
import { DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, RETENTION_PRESET_DAYS, TASK_TYPES, stagesOf } from '../domain/index.js';
import { actorOf } from './auth.js';

export const taskTypeCatalogue = () =>
  Object.values(TASK_TYPES).map((def) => ({
    ...def,
    stages: stagesOf(def),
    retention: {
      presets: RETENTION_PRESET_DAYS.filter((d) => d >= def.minRetentionDays),
      default: Math.max(DEFAULT_RETENTION_DAYS, def.minRetentionDays),
      min: def.minRetentionDays,
      max: MAX_RETENTION_DAYS,
    },
  }));

export function taskTypeRoutes(): Router {
  const router = Router();
  const catalogue = taskTypeCatalogue();
  router.get('/v1/task-types', (req, res) => {
    actorOf(req);
    res.json({ items: catalogue });
  });
  return router;
}
