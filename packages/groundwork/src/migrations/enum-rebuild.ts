/**
 * A rebuilt enum (a value removed: PostgreSQL cannot drop one) changes the type of every column of it, which
 * PostgreSQL refuses while a view or materialized view uses such a column. The rebuild is wrapped in two
 * statements of the same transaction: the first saves the dependent views (deepest first: views of views) with
 * their options, indexes, comments, owner and grants, and drops them; the second re-creates them, populated as
 * they were. A view with triggers or rules it cannot re-create stops the migration before anything changed.
 */

const SAVED = 'groundwork_saved_views';

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** The views and materialized views that use a column of `type` (or the type itself), and those built on them. */
const dependentsOf = (type: string) => `
    WITH RECURSIVE dependents(oid, depth) AS (
      SELECT r.ev_class, 1
        FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
       WHERE d.classid = 'pg_rewrite'::regclass
         AND ((d.refclassid = 'pg_type'::regclass AND d.refobjid = ${literal(type)}::regtype)
           OR (d.refclassid = 'pg_class'::regclass AND EXISTS (
                SELECT FROM pg_attribute a
                 WHERE a.attrelid = d.refobjid AND a.attnum = d.refobjsubid AND a.atttypid = ${literal(type)}::regtype)))
      UNION ALL
      SELECT r.ev_class, dependents.depth + 1
        FROM dependents
        JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = dependents.oid
                        AND d.classid = 'pg_rewrite'::regclass
        JOIN pg_rewrite r ON r.oid = d.objid
       WHERE r.ev_class <> dependents.oid
    )
    SELECT c.oid, c.relkind, format('%I.%I', n.nspname, c.relname), pg_get_viewdef(c.oid), c.reloptions,
           obj_description(c.oid, 'pg_class'), pg_get_userbyid(c.relowner),
           ARRAY(SELECT pg_get_indexdef(x.indexrelid) FROM pg_index x WHERE x.indrelid = c.oid),
           ARRAY(SELECT format('GRANT %s ON %I.%I TO %s%s', a.privilege_type, n.nspname, c.relname,
                               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
                               CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
                   FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner),
           c.relispopulated
      FROM (SELECT oid, max(depth) AS depth FROM dependents GROUP BY oid) deepest
      JOIN pg_class c ON c.oid = deepest.oid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('v', 'm')
     ORDER BY deepest.depth DESC, c.oid`;

/** Saves and drops the views that use a column of `type` (a quoted, qualified name: `"public"."mood"`). */
export function saveDependentViews(type: string): string {
  return `DO $groundwork$
DECLARE
  saved record;
BEGIN
  CREATE TEMP TABLE IF NOT EXISTS ${SAVED} (
    position serial, oid oid, kind "char", name text, definition text, options text[], comment text, owner name,
    indexes text[], grants text[], populated boolean
  ) ON COMMIT DROP;
  INSERT INTO ${SAVED} (oid, kind, name, definition, options, comment, owner, indexes, grants, populated)${dependentsOf(type)};
  FOR saved IN SELECT * FROM ${SAVED} ORDER BY position LOOP
    IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = saved.oid)
       OR EXISTS (SELECT FROM pg_rewrite WHERE ev_class = saved.oid AND rulename <> '_RETURN') THEN
      RAISE EXCEPTION 'rebuilding type % would drop %, which has triggers or rules that cannot be re-created automatically', ${literal(type)}, saved.name
        USING HINT = 'Drop it in this migration before the rebuild and re-create it after (and the reverse in down.sql).';
    END IF;
    EXECUTE format('DROP %s %s', CASE saved.kind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END, saved.name);
  END LOOP;
END $groundwork$;`;
}

/** Re-creates what `saveDependentViews` dropped, shallowest first. */
export function restoreDependentViews(): string {
  return `DO $groundwork$
DECLARE
  saved record;
  kind text;
  statement text;
BEGIN
  FOR saved IN SELECT * FROM ${SAVED} ORDER BY position DESC LOOP
    kind := CASE saved.kind WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'VIEW' END;
    EXECUTE format('CREATE %s %s%s AS %s%s', kind, saved.name,
      CASE WHEN saved.options IS NULL THEN '' ELSE format(' WITH (%s)', array_to_string(saved.options, ', ')) END,
      rtrim(saved.definition, E'; \\n'),
      CASE WHEN saved.kind = 'm' AND NOT saved.populated THEN ' WITH NO DATA' ELSE '' END);
    IF saved.owner <> current_user THEN
      EXECUTE format('ALTER %s %s OWNER TO %I', kind, saved.name, saved.owner);
    END IF;
    FOREACH statement IN ARRAY saved.indexes || saved.grants LOOP
      EXECUTE statement;
    END LOOP;
    IF saved.comment IS NOT NULL THEN
      EXECUTE format('COMMENT ON %s %s IS %L', kind, saved.name, saved.comment);
    END IF;
  END LOOP;
  DELETE FROM ${SAVED};
END $groundwork$;`;
}
