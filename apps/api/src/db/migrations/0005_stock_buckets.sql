-- How many pieces a product's gate counter is split into (see DESIGN.md, "One hot product across
-- shards"). 1 is one counter on one shard; more spreads one product's attempts over that many
-- Redis Cluster slots. PostgreSQL keeps one row of stock whatever the split.
ALTER TABLE "products" ADD COLUMN "stock_buckets" smallint DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "products" ADD CONSTRAINT "products_stock_buckets_range" CHECK ("products"."stock_buckets" BETWEEN 1 AND 16);
