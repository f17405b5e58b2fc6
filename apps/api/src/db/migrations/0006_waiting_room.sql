-- A product's waiting room (see DESIGN.md, "The waiting room"). No row, or enabled = false, means
-- orders for the product need no pass. Queue state (the line, the passes) lives in Redis and is
-- rebuilt from the buyers' signed tickets; only the operator's settings are kept here.
CREATE TABLE "queue_settings" (
	"product_id" integer PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT false NOT NULL,
	"opens_before_seconds" integer DEFAULT 900 NOT NULL,
	"admit_per_minute" integer DEFAULT 60 NOT NULL,
	"max_active" integer,
	"inventory_factor" double precision DEFAULT 1 NOT NULL,
	"pass_ttl_seconds" integer DEFAULT 600 NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "queue_settings_opens_before_range" CHECK ("queue_settings"."opens_before_seconds" BETWEEN 0 AND 604800),
	CONSTRAINT "queue_settings_admit_rate_positive" CHECK ("queue_settings"."admit_per_minute" > 0),
	CONSTRAINT "queue_settings_max_active_positive" CHECK ("queue_settings"."max_active" IS NULL OR "queue_settings"."max_active" > 0),
	CONSTRAINT "queue_settings_factor_range" CHECK ("queue_settings"."inventory_factor" BETWEEN 1 AND 10),
	CONSTRAINT "queue_settings_pass_ttl_range" CHECK ("queue_settings"."pass_ttl_seconds" BETWEEN 30 AND 3600)
);--> statement-breakpoint
ALTER TABLE "queue_settings" ADD CONSTRAINT "queue_settings_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "public"."products"("id") ON DELETE cascade ON UPDATE no action;
