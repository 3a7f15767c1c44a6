CREATE TABLE "appeals" (
	"id" text PRIMARY KEY NOT NULL,
	"creator_id" text NOT NULL,
	"credit_event_id" bigint NOT NULL,
	"points" integer NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"filed_at" timestamp with time zone NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"escalated_at" timestamp with time zone,
	"decided_at" timestamp with time zone,
	"decided_by" text,
	"decision_note" text,
	CONSTRAINT "appeals_status" CHECK ("appeals"."status" in ('open', 'escalated', 'upheld', 'rejected')),
	CONSTRAINT "appeals_points" CHECK ("appeals"."points" > 0)
);
--> statement-breakpoint
CREATE TABLE "calendar_days" (
	"day" date PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"source" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "calendar_days_kind" CHECK ("calendar_days"."kind" in ('holiday', 'workday'))
);
--> statement-breakpoint
CREATE TABLE "task_ratings" (
	"task_id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"creator_id" text NOT NULL,
	"stars" integer NOT NULL,
	"comment" text NOT NULL,
	"rated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_ratings_stars" CHECK ("task_ratings"."stars" between 1 and 5)
);
--> statement-breakpoint
ALTER TABLE "credit_events" ADD COLUMN "card_id" text;--> statement-breakpoint
ALTER TABLE "credit_events" ADD COLUMN "appeal_id" text;--> statement-breakpoint
ALTER TABLE "appeals" ADD CONSTRAINT "appeals_creator_id_accounts_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "appeals" ADD CONSTRAINT "appeals_credit_event_id_credit_events_id_fk" FOREIGN KEY ("credit_event_id") REFERENCES "public"."credit_events"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_ratings" ADD CONSTRAINT "task_ratings_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "appeals_credit_event" ON "appeals" USING btree ("credit_event_id");--> statement-breakpoint
CREATE INDEX "appeals_open_due" ON "appeals" USING btree ("due_at") WHERE "appeals"."status" in ('open', 'escalated');--> statement-breakpoint
CREATE INDEX "appeals_creator" ON "appeals" USING btree ("creator_id","filed_at");--> statement-breakpoint
CREATE INDEX "task_ratings_creator" ON "task_ratings" USING btree ("creator_id","rated_at");