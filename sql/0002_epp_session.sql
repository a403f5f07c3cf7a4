-- cdscan schema, version 2: the epp-tls adapter keeps the registry's
-- transaction identifier of every change set it applied (RFC 5730 §2.6
-- svTRID), for the registry's and the registrar's audit trails.
ALTER TABLE change_sets ADD COLUMN svtrid text;
