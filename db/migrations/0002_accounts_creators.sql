CREATE TABLE "accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"role" text NOT NULL,
	"login" text NOT NULL,
	"password_hash" text NOT NULL,
	"display_name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone,
	CONSTRAINT "accounts_role_known" CHECK ("accounts"."role" in ('client', 'creator', 'mcn', 'operator'))
);
--> statement-breakpoint
CREATE TABLE "creator_cards" (
	"id" text PRIMARY KEY NOT NULL,
	"creator_id" text NOT NULL,
	"color" text NOT NULL,
	"reason" text NOT NULL,
	"observation_days" integer NOT NULL,
	"issued_by" text NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"last_violation_at" timestamp with time zone NOT NULL,
	"observation_ends_at" timestamp with time zone NOT NULL,
	CONSTRAINT "creator_cards_color" CHECK ("creator_cards"."color" in ('red', 'yellow')),
	CONSTRAINT "creator_cards_observation" CHECK ("creator_cards"."observation_days" > 0)
);
--> statement-breakpoint
CREATE TABLE "creator_offers" (
	"creator_id" text NOT NULL,
	"task_type" text NOT NULL,
	"platform" text NOT NULL,
	"platform_account_id" text NOT NULL,
	"display_name" text NOT NULL,
	"quote_fen" bigint,
	"accepting" boolean DEFAULT true NOT NULL,
	"contact_complete" boolean NOT NULL,
	"discoverable" boolean NOT NULL,
	"fans" bigint NOT NULL,
	"average_recent_plays" bigint NOT NULL,
	"rating_centis" integer,
	"rating_count" integer DEFAULT 0 NOT NULL,
	"opened_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "creator_offers_creator_id_task_type_pk" PRIMARY KEY("creator_id","task_type"),
	CONSTRAINT "creator_offers_quote_positive" CHECK ("creator_offers"."quote_fen" is null or "creator_offers"."quote_fen" > 0),
	CONSTRAINT "creator_offers_discoverable" CHECK ("creator_offers"."discoverable" = ("creator_offers"."quote_fen" is not null and "creator_offers"."contact_complete"))
);
--> statement-breakpoint
CREATE TABLE "creator_profiles" (
	"creator_id" text PRIMARY KEY NOT NULL,
	"phone" text,
	"email" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "platform_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"creator_id" text NOT NULL,
	"platform" text NOT NULL,
	"platform_user_id" text NOT NULL,
	"nickname" text NOT NULL,
	"fans" bigint NOT NULL,
	"original_permission" boolean NOT NULL,
	"average_recent_plays" bigint NOT NULL,
	"metrics_at" timestamp with time zone NOT NULL,
	"bound_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "virtual_number_assignments" (
	"client_id" text NOT NULL,
	"creator_id" text NOT NULL,
	"number" text NOT NULL,
	"assigned_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "virtual_number_assignments_client_id_creator_id_pk" PRIMARY KEY("client_id","creator_id")
);
--> statement-breakpoint
CREATE TABLE "virtual_numbers" (
	"number" text PRIMARY KEY NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "creator_cards" ADD CONSTRAINT "creator_cards_creator_id_accounts_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "creator_offers" ADD CONSTRAINT "creator_offers_creator_id_accounts_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "creator_offers" ADD CONSTRAINT "creator_offers_platform_account_id_platform_accounts_id_fk" FOREIGN KEY ("platform_account_id") REFERENCES "public"."platform_accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "creator_profiles" ADD CONSTRAINT "creator_profiles_creator_id_accounts_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "platform_accounts" ADD CONSTRAINT "platform_accounts_creator_id_accounts_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "virtual_number_assignments" ADD CONSTRAINT "virtual_number_assignments_client_id_accounts_id_fk" FOREIGN KEY ("client_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "virtual_number_assignments" ADD CONSTRAINT "virtual_number_assignments_creator_id_accounts_id_fk" FOREIGN KEY ("creator_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "virtual_number_assignments" ADD CONSTRAINT "virtual_number_assignments_number_virtual_numbers_number_fk" FOREIGN KEY ("number") REFERENCES "public"."virtual_numbers"("number") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "accounts_login" ON "accounts" USING btree ("login");--> statement-breakpoint
CREATE INDEX "accounts_role" ON "accounts" USING btree ("role","id");--> statement-breakpoint
CREATE INDEX "creator_cards_observation" ON "creator_cards" USING btree ("creator_id","observation_ends_at");--> statement-breakpoint
CREATE INDEX "plaza_type_price" ON "creator_offers" USING btree ("task_type","quote_fen","creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_fans" ON "creator_offers" USING btree ("task_type","fans" DESC NULLS LAST,"creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_plays" ON "creator_offers" USING btree ("task_type","average_recent_plays" DESC NULLS LAST,"creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_rating" ON "creator_offers" USING btree ("task_type",coalesce("rating_centis", -1) desc,"creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_price" ON "creator_offers" USING btree ("platform","quote_fen","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_fans" ON "creator_offers" USING btree ("platform","fans" DESC NULLS LAST,"creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_plays" ON "creator_offers" USING btree ("platform","average_recent_plays" DESC NULLS LAST,"creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "creator_offers_account" ON "creator_offers" USING btree ("platform_account_id");--> statement-breakpoint
CREATE UNIQUE INDEX "platform_accounts_platform_user" ON "platform_accounts" USING btree ("platform","platform_user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "platform_accounts_creator_platform" ON "platform_accounts" USING btree ("creator_id","platform");--> statement-breakpoint
CREATE UNIQUE INDEX "virtual_number_client" ON "virtual_number_assignments" USING btree ("number","client_id");--> statement-breakpoint
CREATE UNIQUE INDEX "virtual_number_creator" ON "virtual_number_assignments" USING btree ("number","creator_id");