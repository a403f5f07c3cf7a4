-- cdscan schema, version 8: signature verifications remembered across scans
-- (issue #20; scan.dnskey-cache in cdscan.yaml(5), src/dns/sigcache.c).
--
-- A scan is a process of its own each night, and several scanner hosts
-- share the database, so what one scan verified is kept here for the next:
-- one row per delegation, read with the batch of delegations a scanner
-- claims and replaced when its result is written (deleted when the scan
-- verified nothing).  entries is sigcache.c's stored form: per signature
-- that verified, the DNSKEY rdata, the signature and the RFC 4034
-- §3.1.8.1 signed data (RRSIG fields with the validity window and signer,
-- then the canonical RRset with its owner), compared byte for byte at the
-- next scan, never by a hash.  A pure cryptographic fact: validity against
-- the clock, DS matching and policy are checked again every time.  Bounded
-- by scan.dnskey-cache.max-entries and max-bytes per delegation.
CREATE TABLE dnskey_cache (
    delegation_id bigint PRIMARY KEY REFERENCES delegations (id) ON DELETE CASCADE,
    entries bytea NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
