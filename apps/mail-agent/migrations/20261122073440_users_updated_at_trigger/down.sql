-- Reverse of 20261122073440_users_updated_at_trigger.
DROP TRIGGER IF EXISTS users_set_updated_at ON "users";
--> statement-breakpoint
DROP FUNCTION IF EXISTS mail_agent_set_updated_at();
