-- cdscan schema, version 7: notifications (cdscan.yaml(5) NOTIFICATIONS).
--
-- A notice is written in the same transaction as what it reports: the
-- verdict whose state differs from the delegation's last one (scan), or
-- the change set the registry applied (epp send).  A rolled-back scan or
-- send leaves no notice; a committed one is delivered after the commit, by
-- whichever process delivers next (at least once: a process killed between
-- a delivery and its row's update delivers it again).

-- The customer's mail address, from the portfolio (import --domains: the
-- CSV's third column, the JSON lines' "contact"); NULL: none given (the
-- registry profile's notify.contact is used).
ALTER TABLE delegations ADD COLUMN contact text;

-- The last notification state of each delegation (a text the scan derives
-- from the verdict: ok, rejected:CODES, bootstrap-pending,
-- bootstrap-accepted, suspended) and how many consecutive real scans have
-- had it.  One upsert per written verdict, under the row's lock, decides
-- "changed" (streak 1) atomically, also for several scanners at once.
CREATE TABLE notice_state (
    delegation_id bigint PRIMARY KEY REFERENCES delegations (id) ON DELETE CASCADE,
    state         text NOT NULL,
    streak        integer NOT NULL,
    changed_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per event to report.  payload: the verdict (scan events) or the
-- change set (change-applied), as JSON.
CREATE TABLE notices (
    id            bigserial PRIMARY KEY,
    delegation_id bigint NOT NULL REFERENCES delegations (id) ON DELETE CASCADE,
    event         text NOT NULL CHECK (event IN ('change-applied', 'signal-rejected',
                      'rejected-repeatedly', 'bootstrap-pending', 'bootstrap-accepted',
                      'suspended')),
    streak        integer NOT NULL DEFAULT 1,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    -- NULL until a deliverer has made its deliveries (the channels the
    -- configuration routes the event to, for the delegation's profile).
    routed_at     timestamptz
);
CREATE INDEX notices_unrouted ON notices (id) WHERE routed_at IS NULL;
CREATE INDEX notices_delegation ON notices (delegation_id);

-- One row per notice and channel: delivered once (sent), retried with
-- back-off (pending, next_attempt_at), or given up (failed).
CREATE TABLE notice_deliveries (
    id              bigserial PRIMARY KEY,
    notice_id       bigint NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    channel         text NOT NULL,
    state           text NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz,
    UNIQUE (notice_id, channel)
);
CREATE INDEX notice_deliveries_due ON notice_deliveries (next_attempt_at, id)
    WHERE state = 'pending';
