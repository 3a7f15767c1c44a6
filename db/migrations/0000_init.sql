CREATE TABLE "credit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"creator_id" text NOT NULL,
	"delta" integer NOT NULL,
	"cause" text NOT NULL,
	"task_id" text,
	"actor_role" text NOT NULL,
	"actor_id" text NOT NULL,
	"reason" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "credit_events_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"task_id" text,
	"channel" text NOT NULL,
	"recipient_role" text NOT NULL,
	"recipient_id" text NOT NULL,
	"template" text NOT NULL,
	"params" jsonb NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"provider_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone,
	CONSTRAINT "notifications_key_unique" UNIQUE("key")
);
--> statement-breakpoint
CREATE TABLE "task_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"task_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"actor_role" text NOT NULL,
	"actor_id" text NOT NULL,
	"reason" text,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "task_metrics" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"task_id" text NOT NULL,
	"event_id" text NOT NULL,
	"item_id" text NOT NULL,
	"plays" bigint NOT NULL,
	"likes" bigint NOT NULL,
	"comments" bigint NOT NULL,
	"shares" bigint NOT NULL,
	"observed_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"client_id" text NOT NULL,
	"creator_id" text NOT NULL,
	"status" text NOT NULL,
	"brief" text NOT NULL,
	"script_required" boolean NOT NULL,
	"retention_days" integer NOT NULL,
	"price_fen" bigint NOT NULL,
	"ordered_at" timestamp with time zone NOT NULL,
	"accept_deadline" timestamp with time zone NOT NULL,
	"accepted_at" timestamp with time zone,
	"published_at" timestamp with time zone,
	"final_published_at" timestamp with time zone,
	"republish_count" integer DEFAULT 0 NOT NULL,
	"delivery_accepted_at" timestamp with time zone,
	"retention_ends_at" timestamp with time zone,
	"next_deadline" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"close_reason" text,
	"snapshot" jsonb,
	"version" integer DEFAULT 0 NOT NULL,
	"idempotency_key" text NOT NULL,
	"request_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "task_events" ADD CONSTRAINT "task_events_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "task_metrics" ADD CONSTRAINT "task_metrics_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "credit_events_creator" ON "credit_events" USING btree ("creator_id","occurred_at");--> statement-breakpoint
CREATE INDEX "notifications_recipient" ON "notifications" USING btree ("recipient_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "task_events_task_seq" ON "task_events" USING btree ("task_id","seq");--> statement-breakpoint
CREATE INDEX "task_events_type" ON "task_events" USING btree ("type");--> statement-breakpoint
CREATE UNIQUE INDEX "task_metrics_event" ON "task_metrics" USING btree ("task_id","event_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tasks_client_idempotency_key" ON "tasks" USING btree ("client_id","idempotency_key");--> statement-breakpoint
CREATE INDEX "tasks_client_created" ON "tasks" USING btree ("client_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tasks_creator_created" ON "tasks" USING btree ("creator_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tasks_status_created" ON "tasks" USING btree ("status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tasks_open_deadline" ON "tasks" USING btree ("next_deadline") WHERE "tasks"."closed_at" is null;