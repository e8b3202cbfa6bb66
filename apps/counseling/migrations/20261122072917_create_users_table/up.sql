-- create users table
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"username" varchar(255) NOT NULL,
	"password_hash" varchar(255) NOT NULL,
	"is_blocked" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_username_format" CHECK ("users"."username" ~ '^\\[^\\]+\\[^\\]+$')
);
--> statement-breakpoint
CREATE UNIQUE INDEX "idx_users_username" ON "users" USING btree ("username");
--> statement-breakpoint
CREATE INDEX "idx_users_is_blocked" ON "users" USING btree ("is_blocked") WHERE "users"."is_blocked" = true;
--> statement-breakpoint
-- updated_at is kept true by the database itself, so no write path (API, script, psql) can forget it.
-- clock_timestamp(), not now(): a row updated later in the same transaction that created it still moves on.
CREATE FUNCTION "counseling_set_updated_at"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.updated_at := clock_timestamp();
	RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_set_updated_at" BEFORE UPDATE ON "users"
FOR EACH ROW EXECUTE FUNCTION "counseling_set_updated_at"();
