-- cdscan schema, version 11: the stored verdict is json, not jsonb.
--
-- Every scan writes one scan_results row per delegation, and the verdict
-- (about 1.3 kB) is most of it.  As jsonb each one is parsed into
-- PostgreSQL's binary form on the way in: measured on 200,000 verdicts
-- like the benchmark's, INSERT ... SELECT took 7.2-7.4 s into jsonb
-- against 3.4-3.6 s into json (which checks the syntax and keeps the
-- text as the scanner wrote it) and 2.3-3.1 s into text; the table was
-- 277 MB against 239 MB.  The verdict is written at every scan and read
-- for one domain at a time (domain show/history, approve-csync, the
-- report's look-up of a rejected previous result), so the cost belongs
-- on the read: readers take CDS_DB_VERDICT (src/db/db_internal.h), the
-- verdict as jsonb whichever column holds it.
--
-- Changing the column's type would rewrite the whole table under an
-- exclusive lock (about 30 us a row here: an hour for 100 million rows of
-- results).  Instead the old column keeps the verdicts written before
-- this version, under the name verdict_jsonb, and the new verdict column
-- is added empty (no rewrite); results-retention removes the old rows in
-- its time.  Every row has one of the two.
ALTER TABLE scan_results RENAME COLUMN verdict TO verdict_jsonb;
ALTER TABLE scan_results ALTER COLUMN verdict_jsonb DROP NOT NULL;
ALTER TABLE scan_results ADD COLUMN verdict json;
ALTER TABLE scan_results ADD CONSTRAINT scan_results_has_verdict
    CHECK (verdict IS NOT NULL OR verdict_jsonb IS NOT NULL) NOT VALID;
COMMENT ON COLUMN scan_results.verdict IS
    'the verdict as check --json prints it (since schema version 11)';
COMMENT ON COLUMN scan_results.verdict_jsonb IS
    'the verdict of a row written before schema version 11, else NULL';
