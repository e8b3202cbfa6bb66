DROP TABLE "ticks";
--> statement-breakpoint
DROP TABLE "counters";
--> statement-breakpoint
DROP SEQUENCE "public"."ticket_numbers";
