-- Plaza searches sorted by price with a fans or plays floor walk the price index and
-- skip the many cheap offers below the floor (price rises with reach). These covering
-- indexes carry every column the plaza returns, so the skipped rows are filtered in
-- the index (index-only scan) instead of fetching each from the table.
-- Hand-written (drizzle's index builder has no INCLUDE); drizzle-kit leaves them alone.
CREATE INDEX IF NOT EXISTS "plaza_type_price_covering" ON "creator_offers" USING btree ("task_type", "quote_fen", "creator_id")
  INCLUDE ("platform", "fans", "average_recent_plays", "accepting", "display_name", "rating_centis", "rating_count", "discoverable") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "plaza_platform_price_covering" ON "creator_offers" USING btree ("platform", "quote_fen", "creator_id", "task_type")
  INCLUDE ("fans", "average_recent_plays", "accepting", "display_name", "rating_centis", "rating_count", "discoverable") WHERE "creator_offers"."discoverable";
