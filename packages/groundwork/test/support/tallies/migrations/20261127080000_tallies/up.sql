-- tallies
CREATE SEQUENCE "public"."ticket_numbers";
--> statement-breakpoint
CREATE TABLE "counters" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY,
	"label" text NOT NULL,
	CONSTRAINT "counters_label_unique" UNIQUE("label")
);
--> statement-breakpoint
CREATE TABLE "ticks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"counter_id" integer NOT NULL,
	"ticket" bigint DEFAULT nextval('ticket_numbers') NOT NULL
);
--> statement-breakpoint
ALTER TABLE "ticks" ADD CONSTRAINT "ticks_counter_id_counters_id_fk" FOREIGN KEY ("counter_id") REFERENCES "public"."counters"("id") ON DELETE no action ON UPDATE no action;
