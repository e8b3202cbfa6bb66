-- batch quality score trigger
-- batches.average_quality_score (mean of the non-null project scores, null when none) and
-- batches.completed_projects (projects completed, reviewed or exported) are derived from projects;
-- the database recomputes them whenever a project row changes, so no writer can leave them stale.
CREATE OR REPLACE FUNCTION refresh_batch_aggregates(target uuid) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  -- Lock the batch first: concurrent writers to one batch queue here, and the UPDATE below (a new
  -- statement, so a new snapshot under READ COMMITTED) then counts the rows they committed.
  -- NO KEY UPDATE, not UPDATE: each writer already holds the foreign key's KEY SHARE lock on this row,
  -- which FOR UPDATE would wait on (two concurrent inserts into one batch deadlocked).
  PERFORM 1 FROM batches WHERE id = target FOR NO KEY UPDATE;
  UPDATE batches b
     SET average_quality_score = agg.average,
         completed_projects = agg.completed
    FROM (
      SELECT round(avg(p.quality_score), 2) AS average,
             count(*) FILTER (WHERE p.status IN ('completed', 'reviewed', 'exported'))::integer AS completed
        FROM projects p
       WHERE p.batch_id = target
    ) agg
   WHERE b.id = target
     AND (b.average_quality_score IS DISTINCT FROM agg.average OR b.completed_projects <> agg.completed);
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION update_batch_quality_score() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM refresh_batch_aggregates(OLD.batch_id);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.batch_id IS DISTINCT FROM OLD.batch_id) THEN
    PERFORM refresh_batch_aggregates(NEW.batch_id);
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- batch_id is watched too: a project moved between batches changes both.
CREATE TRIGGER update_batch_quality_score
  AFTER INSERT OR DELETE OR UPDATE OF quality_score, status, batch_id ON projects
  FOR EACH ROW EXECUTE FUNCTION update_batch_quality_score();
--> statement-breakpoint
-- Rows written while the trigger was absent (after a downgrade) get their aggregates back.
UPDATE batches b
   SET average_quality_score = agg.average,
       completed_projects = agg.completed
  FROM (
    SELECT bb.id,
           round(avg(p.quality_score), 2) AS average,
           count(p.id) FILTER (WHERE p.status IN ('completed', 'reviewed', 'exported'))::integer AS completed
      FROM batches bb LEFT JOIN projects p ON p.batch_id = bb.id
     GROUP BY bb.id
  ) agg
 WHERE b.id = agg.id
   AND (b.average_quality_score IS DISTINCT FROM agg.average OR b.completed_projects <> agg.completed);
