CREATE TABLE "top_ups" (
	"id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"amount_fen" bigint NOT NULL,
	"status" text NOT NULL,
	"provider" text NOT NULL,
	"provider_payment_id" text,
	"failure_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"settled_at" timestamp with time zone,
	CONSTRAINT "top_ups_provider_payment_id_unique" UNIQUE("provider_payment_id"),
	CONSTRAINT "top_ups_amount" CHECK ("top_ups"."amount_fen" > 0 and "top_ups"."amount_fen" <= 100000000),
	CONSTRAINT "top_ups_status" CHECK ("top_ups"."status" in ('pending', 'succeeded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "locked_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "top_ups_client" ON "top_ups" USING btree ("client_id","created_at");