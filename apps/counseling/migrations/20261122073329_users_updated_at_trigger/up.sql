-- users updated_at trigger
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
