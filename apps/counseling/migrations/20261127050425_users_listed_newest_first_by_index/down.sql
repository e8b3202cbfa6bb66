DROP INDEX "idx_users_created_at_id";
