CREATE TABLE "client_ratings" (
	"task_id" text PRIMARY KEY NOT NULL,
	"client_id" text NOT NULL,
	"creator_id" text NOT NULL,
	"stars" integer NOT NULL,
	"comment" text NOT NULL,
	"rated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "client_ratings_stars" CHECK ("client_ratings"."stars" between 1 and 5)
);
--> statement-breakpoint
ALTER TABLE "client_ratings" ADD CONSTRAINT "client_ratings_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "client_ratings_client" ON "client_ratings" USING btree ("client_id","stars");