-- create users table
-- users with the onboarding profile embedded (story 1.2 decision: one table, no onboarding_data).
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"email" varchar(255) NOT NULL,
	"hashed_password" varchar(255) NOT NULL,
	"exam_date" date,
	"target_score" integer,
	"daily_study_time" integer,
	"knowledge_level" varchar(50),
	"motivation" text,
	"referral_source" varchar(50),
	"is_admin" boolean DEFAULT false NOT NULL,
	"dark_mode" varchar(10) DEFAULT 'auto' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "check_target_score_range" CHECK ("users"."target_score" BETWEEN 0 AND 100),
	CONSTRAINT "check_daily_study_time_range" CHECK ("users"."daily_study_time" BETWEEN 1 AND 1440),
	CONSTRAINT "check_knowledge_level" CHECK ("users"."knowledge_level" IN ('Beginner', 'Intermediate', 'Advanced')),
	CONSTRAINT "check_referral_source" CHECK ("users"."referral_source" IN ('Search', 'Friend', 'Social', 'Other')),
	CONSTRAINT "check_dark_mode" CHECK ("users"."dark_mode" IN ('light', 'dark', 'auto'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "idx_users_email" ON "users" USING btree (lower("email"));
--> statement-breakpoint
CREATE INDEX "idx_users_created_at" ON "users" USING btree ("created_at");
--> statement-breakpoint
-- Reviewed by hand: updated_at is kept true by the database, whatever code path writes the row.
CREATE FUNCTION learnr_set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON "users" FOR EACH ROW EXECUTE FUNCTION learnr_set_updated_at();
