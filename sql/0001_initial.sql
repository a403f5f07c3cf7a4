-- cdscan schema, version 1: delegations, scan results, change sets (a
-- transactional outbox), bootstrap observations.  Forward-only: later
-- changes come as new numbered files.

CREATE TABLE delegations (
    id                   bigserial PRIMARY KEY,
    domain               text NOT NULL UNIQUE,       -- normalised, lower case, trailing dot
    zone                 text NOT NULL,              -- the parent zone it was imported from
    ns                   text[] NOT NULL,            -- NS names, sorted
    glue                 jsonb NOT NULL DEFAULT '{}',-- in-bailiwick NS name -> [addresses]
    ds                   text[] NOT NULL DEFAULT '{}', -- "KEYTAG ALG DIGESTTYPE HEX", sorted
    ds_changed_at        timestamptz,                -- last DS change at the parent (RFC 7344 §6.2)
    ns_changed_at        timestamptz,                -- last NS/glue change at the parent
    opted_out            boolean NOT NULL DEFAULT false, -- automation disabled by the operator
    registry             text,                       -- registrars: the registry profile it belongs to
    removed_at           timestamptz,                -- no longer in the parent zone (kept, marked)
    next_scan_at         timestamptz NOT NULL DEFAULT now(),
    consecutive_failures integer NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    CHECK (domain LIKE '%.')
);
-- The scanners claim due delegations in this order.
CREATE INDEX delegations_due ON delegations (next_scan_at)
    WHERE removed_at IS NULL AND NOT opted_out;
CREATE INDEX delegations_zone ON delegations (zone);

CREATE TABLE scan_results (
    id            bigserial PRIMARY KEY,
    delegation_id bigint NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    scanned_at    timestamptz NOT NULL,
    dry_run       boolean NOT NULL,
    ds_action     text NOT NULL,
    ns_action     text NOT NULL,
    reasons       text[] NOT NULL,                   -- DS and NS reason codes
    verdict       jsonb NOT NULL,                    -- the verdict as `check --json` prints it
    scanner       text                               -- host and pid of the scanner
);
-- "Why was my domain not updated?": the newest results of one delegation.
CREATE INDEX scan_results_delegation ON scan_results (delegation_id, scanned_at DESC);
CREATE INDEX scan_results_reasons ON scan_results USING gin (reasons);
CREATE INDEX scan_results_scanned ON scan_results (scanned_at);

CREATE TYPE change_state AS ENUM ('pending', 'sent', 'done', 'failed');

CREATE TABLE change_sets (
    id             bigserial PRIMARY KEY,
    delegation_id  bigint NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    scan_result_id bigint REFERENCES scan_results (id) ON DELETE SET NULL,
    kind           text NOT NULL CHECK (kind IN ('ds', 'ns')),
    action         text NOT NULL CHECK (action IN ('update', 'delete', 'bootstrap')),
    add            text[] NOT NULL DEFAULT '{}',
    rem            text[] NOT NULL DEFAULT '{}',
    payload        jsonb NOT NULL,                   -- proposed set, keys, glue: what EPP needs
    state          change_state NOT NULL DEFAULT 'pending',
    attempts       integer NOT NULL DEFAULT 0,
    last_error     text,
    cltrid         text NOT NULL UNIQUE,             -- stable across resends
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
-- At most one open change set per domain and kind: a constraint, not a convention.
CREATE UNIQUE INDEX change_sets_one_open ON change_sets (delegation_id, kind)
    WHERE state IN ('pending', 'sent');
CREATE INDEX change_sets_pending ON change_sets (created_at) WHERE state = 'pending';

CREATE TABLE bootstrap_observations (
    delegation_id    bigint PRIMARY KEY REFERENCES delegations (id) ON DELETE CASCADE,
    signal           text[] NOT NULL,                -- the apex CDS/CDNSKEY seen
    first_seen       timestamptz NOT NULL,
    last_seen        timestamptz NOT NULL,
    consistent_scans integer NOT NULL DEFAULT 1,
    over_tcp         boolean NOT NULL DEFAULT false
);
