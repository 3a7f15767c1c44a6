-- Every fen lands: an operator's release of an escrow the ledger refused to settle (README "Operations", session 20).
CREATE TABLE "escrow_releases" (
	"task_id" text PRIMARY KEY NOT NULL,
	"refund_fen" bigint NOT NULL,
	"payout_fen" bigint NOT NULL,
	"payout_account" text,
	"released_by" text NOT NULL,
	"note" text NOT NULL,
	"released_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "escrow_releases_amounts" CHECK ("escrow_releases"."refund_fen" >= 0 and "escrow_releases"."payout_fen" >= 0 and "escrow_releases"."refund_fen" + "escrow_releases"."payout_fen" > 0)
);
