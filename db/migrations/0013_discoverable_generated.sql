-- R-DISCOVERABLE in one place: `discoverable` becomes a stored generated column
-- (quote set and contact complete), so no writer can disagree with the rule.
-- A column cannot be turned into a generated one in place: it is dropped and added
-- again, which drops the plaza's partial indexes on it; they are created again below
-- (the 12 of db/schema/creators.ts and the 2 covering ones of 0008, hand-written).
ALTER TABLE "creator_offers" DROP CONSTRAINT "creator_offers_discoverable";--> statement-breakpoint
ALTER TABLE "creator_offers" drop column "discoverable";--> statement-breakpoint
ALTER TABLE "creator_offers" ADD COLUMN "discoverable" boolean GENERATED ALWAYS AS (quote_fen is not null and contact_complete) STORED NOT NULL;--> statement-breakpoint
CREATE INDEX "plaza_type_price" ON "creator_offers" USING btree ("task_type","quote_fen","creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_price" ON "creator_offers" USING btree ("platform","quote_fen","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_price" ON "creator_offers" USING btree ("quote_fen","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_fans" ON "creator_offers" USING btree ("task_type","fans","creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_fans" ON "creator_offers" USING btree ("platform","fans","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_fans" ON "creator_offers" USING btree ("fans","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_plays" ON "creator_offers" USING btree ("task_type","average_recent_plays","creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_plays" ON "creator_offers" USING btree ("platform","average_recent_plays","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_plays" ON "creator_offers" USING btree ("average_recent_plays","creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_rating" ON "creator_offers" USING btree ("task_type",coalesce("rating_centis", -1),"creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_rating" ON "creator_offers" USING btree ("platform",coalesce("rating_centis", -1),"creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_all_rating" ON "creator_offers" USING btree (coalesce("rating_centis", -1),"creator_id","task_type") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_type_price_covering" ON "creator_offers" USING btree ("task_type", "quote_fen", "creator_id")
  INCLUDE ("platform", "fans", "average_recent_plays", "accepting", "display_name", "rating_centis", "rating_count", "discoverable") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX "plaza_platform_price_covering" ON "creator_offers" USING btree ("platform", "quote_fen", "creator_id", "task_type")
  INCLUDE ("fans", "average_recent_plays", "accepting", "display_name", "rating_centis", "rating_count", "discoverable") WHERE "creator_offers"."discoverable";
