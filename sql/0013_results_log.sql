-- cdscan schema, version 13: a scan result costs no look-up of its
-- delegation and no entry in an index no statement reads.
--
-- scan_results is the scans' log: a row per delegation and scan, written
-- by the scanner only for delegations it has just claimed (and whose row
-- it updates in the same transaction), read for one delegation at a time
-- and removed by age (scan.results-retention).  Two things cost every
-- insert and bought nothing:
--
-- * The foreign key to delegations.  PostgreSQL checks it per row: a
--   look-up of the delegation that also locks it (a WAL record and a
--   dirtied page of delegations for each result).  cdscan never deletes a
--   delegation (a removed one keeps its row, removed_at set); what the
--   key's ON DELETE CASCADE did for an operator who deletes rows by hand,
--   the trigger below still does, a statement at a time.  (A result
--   written for a delegation deleted while it was being scanned outlives
--   it until scan.results-retention; with the key, that delegation's
--   whole group of results failed to be written.)
-- * The GIN index on reasons.  No statement of cdscan searches results by
--   reason code (reports and gauges read the verdicts of one scan or one
--   delegation), yet each result added its codes to it.
--
-- Measured on PostgreSQL 15 with 200,000 results like the benchmark's, in
-- statements of 2,000 rows: 3.80-3.82 s with both, 3.18-3.57 s without
-- the index, 2.00-2.36 s without either (bench/RESULTS.md).
ALTER TABLE scan_results DROP CONSTRAINT scan_results_delegation_id_fkey;
DROP INDEX scan_results_reasons;

CREATE FUNCTION scan_results_follow_delegations() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM scan_results s USING gone g WHERE s.delegation_id = g.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER scan_results_follow_delegations AFTER DELETE ON delegations
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION scan_results_follow_delegations();
