-- create core tables
CREATE TABLE "batches" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"user_id" uuid NOT NULL,
	"name" varchar(255) NOT NULL,
	"status" varchar(30) DEFAULT 'uploading' NOT NULL,
	"total_projects" integer NOT NULL,
	"completed_projects" integer DEFAULT 0 NOT NULL,
	"average_quality_score" numeric(5, 2),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone DEFAULT now() + interval '90 days' NOT NULL,
	CONSTRAINT "batches_status_check" CHECK ("batches"."status" in ('uploading', 'validating', 'validation_failed', 'queued', 'processing', 'completed', 'partially_completed', 'archived')),
	CONSTRAINT "batches_total_projects_check" CHECK ("batches"."total_projects" between 1 and 20),
	CONSTRAINT "batches_completed_projects_check" CHECK ("batches"."completed_projects" >= 0)
);
--> statement-breakpoint
CREATE TABLE "generation_metadata" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"total_input_tokens" integer DEFAULT 0 NOT NULL,
	"total_output_tokens" integer DEFAULT 0 NOT NULL,
	"total_cost_eur" numeric(10, 4) DEFAULT 0 NOT NULL,
	"average_latency_ms" integer,
	"model_used" varchar(50),
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "project_contents" (
	"project_id" uuid PRIMARY KEY NOT NULL,
	"sections" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"last_edited_section" varchar(50),
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"batch_id" uuid NOT NULL,
	"row_number" integer NOT NULL,
	"status" varchar(20) DEFAULT 'pending' NOT NULL,
	"quality_score" numeric(5, 2),
	"input_data" jsonb NOT NULL,
	"ai_model" varchar(50),
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "projects_status_check" CHECK ("projects"."status" in ('pending', 'generating', 'completed', 'failed', 'reviewed', 'exported')),
	CONSTRAINT "projects_quality_score_check" CHECK ("projects"."quality_score" between 0 and 100)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT uuid_generate_v4() NOT NULL,
	"email" varchar(255) NOT NULL,
	"name" varchar(255) NOT NULL,
	"company" varchar(255),
	"cognito_sub" varchar(255) NOT NULL,
	"preferences" jsonb DEFAULT '{"defaultAiModel":"claude","language":"pl","notificationsEnabled":true}'::jsonb NOT NULL,
	"last_login_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_key" UNIQUE("email"),
	CONSTRAINT "users_cognito_sub_key" UNIQUE("cognito_sub")
);
--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "generation_metadata" ADD CONSTRAINT "generation_metadata_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "project_contents" ADD CONSTRAINT "project_contents_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_batch_id_batches_id_fk" FOREIGN KEY ("batch_id") REFERENCES "public"."batches"("id") ON DELETE cascade ON UPDATE no action;
--> statement-breakpoint
CREATE INDEX "idx_batches_user_id_created_at" ON "batches" USING btree ("user_id","created_at" DESC NULLS LAST);
--> statement-breakpoint
CREATE INDEX "idx_batches_status" ON "batches" USING btree ("status");
--> statement-breakpoint
CREATE INDEX "idx_batches_created_at" ON "batches" USING btree ("created_at" DESC NULLS LAST);
--> statement-breakpoint
CREATE INDEX "idx_batches_expires_at" ON "batches" USING btree ("expires_at");
--> statement-breakpoint
CREATE UNIQUE INDEX "projects_batch_id_row_number_key" ON "projects" USING btree ("batch_id","row_number");
--> statement-breakpoint
CREATE INDEX "idx_projects_status" ON "projects" USING btree ("status");
