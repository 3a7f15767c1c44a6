ALTER TABLE "notifications" ADD COLUMN "next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
CREATE INDEX "notifications_unsent_due" ON "notifications" USING btree ("next_attempt_at") WHERE "notifications"."sent_at" is null;--> statement-breakpoint
CREATE INDEX "notifications_unsent_task" ON "notifications" USING btree ("task_id","id") WHERE "notifications"."sent_at" is null;--> statement-breakpoint
-- messages left unsent by a sendNotification activity belong to that activity's retries, not to the dispatcher
UPDATE "notifications" SET "next_attempt_at" = 'infinity' WHERE "sent_at" IS NULL;
