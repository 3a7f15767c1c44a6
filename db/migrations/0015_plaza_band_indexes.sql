-- Plaza searches with a range on another column than the sort's (a price range
-- sorted by fans, a fans floor sorted by price, …; db/creators.ts searchPlaza's
-- banded plan). Price rises with reach, so walking the sort's own index skips most
-- offers: at a million creators a budget sorted by fans walked 43,000 offers for
-- a page of 20 (p95 232 ms). These indexes lead with the sort key's band (its
-- natural log in eighths; a rating's tenths of a star), then the task type, then
-- the filtered column, and cover every filter: PostgreSQL 18 reads them band by
-- band in the sort's order, jumping to the filter's range in each (skip scan),
-- sorts within a band (incremental sort) and stops when the page is full.
-- The expressions must stay exactly those of db/creators.ts (test/db/plaza.test.ts
-- checks that the planner can use them). Hand-written (drizzle's index builder has
-- no INCLUDE); drizzle-kit leaves them alone.
CREATE INDEX IF NOT EXISTS "plaza_band_fans" ON "creator_offers" USING btree ((floor(ln(greatest("fans", 1)::float8) * 8)::int), "task_type", "quote_fen")
  INCLUDE ("fans", "average_recent_plays", "accepting", "creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "plaza_band_plays" ON "creator_offers" USING btree ((floor(ln(greatest("average_recent_plays", 1)::float8) * 8)::int), "task_type", "quote_fen")
  INCLUDE ("average_recent_plays", "fans", "accepting", "creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "plaza_band_price" ON "creator_offers" USING btree ((floor(ln(greatest("quote_fen", 1)::float8) * 8)::int), "task_type", "fans")
  INCLUDE ("quote_fen", "average_recent_plays", "accepting", "creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "plaza_band_rating" ON "creator_offers" USING btree ((coalesce("rating_centis", -10) / 10), "task_type", "quote_fen")
  INCLUDE ("rating_centis", "fans", "average_recent_plays", "accepting", "creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "plaza_band_rating_fans" ON "creator_offers" USING btree ((coalesce("rating_centis", -10) / 10), "task_type", "fans")
  INCLUDE ("rating_centis", "quote_fen", "average_recent_plays", "accepting", "creator_id") WHERE "creator_offers"."discoverable";--> statement-breakpoint
-- the covering price indexes of 0008 have the same keys and predicate: these two were never chosen over them
DROP INDEX IF EXISTS "plaza_type_price";--> statement-breakpoint
DROP INDEX IF EXISTS "plaza_platform_price";
