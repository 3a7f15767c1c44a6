-- A retried task action (the same Idempotency-Key) finds the event its first try decided, also once
-- the task is closed or its workflow continued as new (README "Choices", session 18).
ALTER TABLE "task_events" ADD COLUMN "update_id" text;--> statement-breakpoint
CREATE INDEX "task_events_update" ON "task_events" USING btree ("task_id","update_id") WHERE "task_events"."update_id" is not null;