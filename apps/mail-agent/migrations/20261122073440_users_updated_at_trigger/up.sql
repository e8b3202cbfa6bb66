-- users updated_at trigger: the database keeps updated_at true for every write path, not only the API's.
CREATE FUNCTION mail_agent_set_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at = now();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON "users"
  FOR EACH ROW EXECUTE FUNCTION mail_agent_set_updated_at();
