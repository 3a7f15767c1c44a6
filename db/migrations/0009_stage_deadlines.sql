DROP INDEX "tasks_in_review";--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "stage_entered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "escalated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "attention" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "current_revision" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "operator_rejections" integer;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "submitted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "complaint_reason" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "complaint_filed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "complaints_filed" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "draft_days" integer DEFAULT 7 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "payout_account" text;--> statement-breakpoint
CREATE INDEX "tasks_in_review_since" ON "tasks" USING btree ("stage_entered_at","id") WHERE "tasks"."status" in ('script_review', 'content_review');--> statement-breakpoint
CREATE INDEX "tasks_open_complaints" ON "tasks" USING btree ("complaint_filed_at","id") WHERE "tasks"."complaint_filed_at" is not null and "tasks"."closed_at" is null;--> statement-breakpoint
-- Backfill the explicit columns of rows projected before they existed (the last time
-- this migration reads the workflow's snapshot: afterwards the projection writes them).
UPDATE "tasks" SET
  "stage_entered_at" = "updated_at",
  "current_revision" = CASE WHEN "status" IN ('script_review', 'content_review') THEN ("snapshot" -> (CASE WHEN "status" = 'script_review' THEN 'script' ELSE 'content' END) ->> 'revision')::int END,
  "operator_rejections" = CASE WHEN "status" IN ('script_review', 'content_review') THEN ("snapshot" -> (CASE WHEN "status" = 'script_review' THEN 'script' ELSE 'content' END) ->> 'operatorRejections')::int END,
  "submitted_at" = CASE WHEN "status" IN ('script_review', 'content_review') THEN ("snapshot" -> (CASE WHEN "status" = 'script_review' THEN 'script' ELSE 'content' END) -> 'current' ->> 'submittedAt')::timestamptz END,
  "complaint_reason" = CASE WHEN jsonb_typeof("snapshot" -> 'acceptance' -> 'complaint') = 'object' THEN "snapshot" -> 'acceptance' -> 'complaint' ->> 'reason' END,
  "complaint_filed_at" = CASE WHEN jsonb_typeof("snapshot" -> 'acceptance' -> 'complaint') = 'object' THEN ("snapshot" -> 'acceptance' -> 'complaint' ->> 'openedAt')::timestamptz END,
  "complaints_filed" = coalesce(("snapshot" -> 'acceptance' ->> 'complaintsFiled')::int, 0)
WHERE "snapshot" IS NOT NULL;
