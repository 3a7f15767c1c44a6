-- Since engine 6 the API projects the order itself (version 1), so "version 0"
-- no longer tells an order whose workflow never started. The API marks the start
-- once it succeeded, and every projection of the workflow marks it too; the
-- orphan sweep starts the rest. Rows projected before this migration were
-- projected by their workflow, so it ran.
ALTER TABLE "tasks" ADD COLUMN "workflow_started_at" timestamp with time zone;--> statement-breakpoint
UPDATE "tasks" SET "workflow_started_at" = "updated_at" WHERE "version" > 0;--> statement-breakpoint
CREATE INDEX "tasks_unstarted" ON "tasks" USING btree ("created_at") WHERE "tasks"."workflow_started_at" is null;
