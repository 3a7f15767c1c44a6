DROP INDEX "plaza_type_fans";--> statement-breakpoint
DROP INDEX "plaza_type_plays";--> statement-breakpoint
DROP INDEX "plaza_type_rating";--> statement-breakpoint
DROP INDEX "plaza_platform_fans";--> statement-breakpoint
DROP INDEX "plaza_platform_plays";--> statement-breakpoint
CREATE INDEX "plaza_all_price" ON "creator_offers" USING btree ("quote_fen","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_fans" ON "creator_offers" USING btree ("fans","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_plays" ON "creator_offers" USING btree ("average_recent_plays","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_rating" ON "creator_offers" USING btree ("platform",coalesce("rating_centis", -1),"creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_rating" ON "creator_offers" USING btree (coalesce("rating_centis", -1),"creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_fans" ON "creator_offers" USING btree ("task_type","fans","creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_plays" ON "creator_offers" USING btree ("task_type","average_recent_plays","creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_rating" ON "creator_offers" USING btree ("task_type",coalesce("rating_centis", -1),"creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_fans" ON "creator_offers" USING btree ("platform","fans","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_plays" ON "creator_offers" USING btree ("platform","average_recent_plays","creator_id","task_type") WHERE "creator_offers"."discoverable";