-- cdscan schema, version 3: what the decision needs to know about one
-- domain beyond its NS and DS, and what an operator needs to see.
--
-- The replay baseline (RFC 7344 §6.2) gets a column of its own,
-- signal_baseline: the RRSIG inception of the last signal cdscan acted on
-- (set when a DS change set is created), or the time an import saw a DS
-- change that cdscan did not make.  ds_changed_at keeps what its name says
-- (when an import last saw the DS set change, whoever made the change) and
-- is no longer read by the scan: a change cdscan made itself must not move
-- the baseline to the import time, or every signal the child signed before
-- that import (a pre-signed next rollover step) would look stale.
ALTER TABLE delegations
    ADD COLUMN signal_baseline       timestamptz,
    -- Automation suspended: nothing is decided until `domain resume`.
    ADD COLUMN suspended_at          timestamptz,
    ADD COLUMN suspended_reason      text,
    ADD COLUMN suspended_by          text
        CHECK (suspended_by IN ('operator', 'import', 'registry')),
    -- `domain approve-csync`: the serial of the CSYNC an operator approved
    -- (RFC 7477 §2.1.1.2), used once.
    ADD COLUMN csync_approved_serial bigint
        CHECK (csync_approved_serial BETWEEN 0 AND 4294967295),
    ADD CONSTRAINT delegations_suspension
        CHECK ((suspended_at IS NULL) = (suspended_by IS NULL));

-- Until now ds_changed_at was the baseline.
UPDATE delegations SET signal_baseline = ds_changed_at WHERE ds_changed_at IS NOT NULL;

-- Nameserver addresses that gave no usable answer, since when (RFC 9975
-- §3: retried with back-off, left out of the decision once they have failed
-- for policy.unreachable-after).  A row goes when the address answers
-- again, or is no longer one of the delegation's.  address is empty for an
-- NS name that had no address at all.
CREATE TABLE server_failures (
    delegation_id   bigint NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    ns_name         text NOT NULL,
    address         text NOT NULL,                  -- as the verdict writes it
    first_failed_at timestamptz NOT NULL,
    last_failed_at  timestamptz NOT NULL,
    failures        integer NOT NULL DEFAULT 1,     -- consecutive scans
    last_error      text,
    PRIMARY KEY (delegation_id, ns_name, address)
);

-- What happened to a domain besides its scans and change sets, with who
-- and why: for `domain history`.
CREATE TABLE domain_events (
    id            bigserial PRIMARY KEY,
    delegation_id bigint NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT now(),
    event         text NOT NULL CHECK (event IN ('suspend', 'resume', 'approve-csync',
                                                 'csync-approval-used', 'ds-changed')),
    actor         text NOT NULL CHECK (actor IN ('operator', 'import', 'registry', 'scan')),
    login         text,                             -- the operator's login name
    reason        text
);
CREATE INDEX domain_events_delegation ON domain_events (delegation_id, at DESC);

-- The change sets of one domain, newest first (domain show and history,
-- and the import's "did cdscan make this DS change?").
CREATE INDEX change_sets_delegation ON change_sets (delegation_id, kind, id DESC);
