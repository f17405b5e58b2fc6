-- Order traffic per second and per API process, for the operator's live sale view and the
-- report after a sale. Each process writes one row a second while it has traffic (the change of
-- its /metrics counters since its last row); readers sum the rows of a second.
CREATE TABLE "live_traffic" (
	"second" timestamp with time zone NOT NULL,
	"process" text NOT NULL,
	"counts" jsonb NOT NULL,
	CONSTRAINT "live_traffic_pkey" PRIMARY KEY("second","process")
);
