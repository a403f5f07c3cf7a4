-- cdscan schema, version 5: when each parent zone was last imported.
--
-- A change set that the registry applied (state done) is in the parent
-- zone only from the registry's next zone generation on, and in the
-- delegation table only from the import after that.  Until then the table
-- holds the parent as it was, and every decision rests on it: a scan that
-- saw the same signal again would propose the same change again (seen in
-- the multi-signer lab, #18: the registry got it twice), and an NS change
-- could rest on a DS the registry took but the parent zone may not serve
-- yet.  So no new change set is made for a delegation while one of its
-- change sets was done after the last import of its zone finished.  A
-- zone never imported here (no row) has no such wait.
CREATE TABLE zone_imports (
    zone        text PRIMARY KEY,               -- the parent zone, as delegations.zone
    imported_at timestamptz NOT NULL            -- the last import's transaction time
);

-- The check runs for every change set a scan makes: done change sets by
-- delegation, newest first.
CREATE INDEX change_sets_done ON change_sets (delegation_id, updated_at) WHERE state = 'done';
