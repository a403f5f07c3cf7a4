-- cdscan schema, version 9: vantage agreement (scan.vantages, issue #20).
--
-- Scanners at different places (vantages) share one database.  With
-- scan.vantages N above 1, a change set is made only when N distinct
-- vantages observed the same signal within scan.vantage-window, and no
-- vantage observed a different one there: a child served differently
-- depending on who asks (an on-path attacker near one scanner, a
-- split-horizon mistake) is held back (vantage-disagreement).
--
-- Each vantage's latest observation of each side of a delegation: what it
-- would act on, as canonical text (the action and the sorted proposed DS
-- set, or NS set with glue; "none" and the current set when it saw
-- nothing to change), compared byte for byte, never hashed.  One row per
-- vantage, replaced by its next scan, so an old observation cannot be
-- replayed: it is overwritten, and outside the window it no longer counts.
-- A scan that rejects (a server unreachable, a bogus signal) observes
-- nothing and leaves the row as it was.
CREATE TABLE vantage_observations (
    delegation_id bigint NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN ('ds', 'ns')),
    vantage       text NOT NULL CHECK (vantage ~ '^[A-Za-z0-9._-]{1,63}$'),
    fingerprint   text NOT NULL,
    observed_at   timestamptz NOT NULL,
    PRIMARY KEY (delegation_id, kind, vantage)
);
