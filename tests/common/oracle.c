/* Test helper: getdns's validator as the oracle (see oracle.h). */
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>
#include <string.h>

#include "cdscan/dns.h"
#include "oracle.h"

/* One RR in wire form as a getdns rr dict, appended to list. */
static bool append_rr(getdns_list *list, const uint8_t *owner, size_t olen, uint16_t type,
		      uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	uint8_t wire[256 + 10 + 65535];
	size_t o = olen;
	memcpy(wire, owner, olen);
	wire[o++] = (uint8_t)(type >> 8);
	wire[o++] = (uint8_t)type;
	wire[o++] = 0;
	wire[o++] = 1;
	wire[o++] = (uint8_t)(ttl >> 24);
	wire[o++] = (uint8_t)(ttl >> 16);
	wire[o++] = (uint8_t)(ttl >> 8);
	wire[o++] = (uint8_t)ttl;
	wire[o++] = (uint8_t)(rdlen >> 8);
	wire[o++] = (uint8_t)rdlen;
	memcpy(wire + o, rdata, rdlen);
	o += rdlen;
	getdns_dict *d = NULL;
	size_t len = 0;
	if (getdns_wire2rr_dict(wire, o, &d) != GETDNS_RETURN_GOOD)
		return false;
	getdns_list_get_length(list, &len);
	bool ok = getdns_list_set_dict(list, len, d) == GETDNS_RETURN_GOOD;
	getdns_dict_destroy(d);
	return ok;
}

/* The records and RRSIGs of set appended to l (TTL: the first RRSIG's
 * original TTL). */
static bool append_set(getdns_list *l, const struct cds_rrset *set)
{
	uint32_t ttl = 3600;
	if (set->sig_count && set->sigs[0].raw_len >= 8) {
		const uint8_t *r = set->sigs[0].raw;
		ttl = (uint32_t)r[4] << 24 | (uint32_t)r[5] << 16 | (uint32_t)r[6] << 8 | r[7];
	}
	for (size_t i = 0; i < set->count; i++)
		if (!append_rr(l, set->owner, set->owner_len, set->type, ttl, set->rdata[i].data,
			       set->rdata[i].len))
			return false;
	for (size_t i = 0; i < set->sig_count; i++)
		if (!append_rr(l, set->owner, set->owner_len, CDS_T_RRSIG, ttl, set->sigs[i].raw,
			       set->sigs[i].raw_len))
			return false;
	return true;
}

/* The records and RRSIGs of set as a list. */
static getdns_list *rr_list(const struct cds_rrset *set)
{
	getdns_list *l = getdns_list_create();
	if (l && !append_set(l, set)) {
		getdns_list_destroy(l);
		return NULL;
	}
	return l;
}

/* The question of set and its denial RRsets: getdns validates the
 * non-existence of (qname, qtype) from the NSEC/NSEC3 records given
 * with a question dict (getdns_validate_dnssec, getdns.h). */
static getdns_list *denial_list(const struct cds_rrset *set)
{
	getdns_list *l = getdns_list_create();
	getdns_dict *q = getdns_dict_create();
	getdns_bindata qname = {set->owner_len, (uint8_t *)set->owner};
	bool ok = l && q && getdns_dict_set_bindata(q, "qname", &qname) == GETDNS_RETURN_GOOD &&
		  getdns_dict_set_int(q, "qtype", set->type) == GETDNS_RETURN_GOOD &&
		  getdns_dict_set_int(q, "qclass", 1) == GETDNS_RETURN_GOOD &&
		  getdns_list_set_dict(l, 0, q) == GETDNS_RETURN_GOOD;
	for (size_t i = 0; ok && i < set->denial_count; i++)
		ok = append_set(l, &set->denial[i]);
	if (q)
		getdns_dict_destroy(q);
	if (!ok && l) {
		getdns_list_destroy(l);
		l = NULL;
	}
	return l;
}

/* getdns_validate_dnssec2 of records (destroyed here) with dnskey as
 * support and ds as trust anchor. */
static enum cds_dnssec_status run(const char *zone, getdns_list *records,
				  const struct cds_rrset *dnskey, const struct cds_ds *ds, size_t n,
				  time_t now)
{
	uint8_t z[256];
	int zl = cds_dname_to_wire(zone, z);
	enum cds_dnssec_status st = CDS_DNSSEC_ERROR;
	getdns_list *support = rr_list(dnskey);
	getdns_list *tas = getdns_list_create();
	if (zl < 0)
		goto out;
	for (size_t i = 0; tas && i < n; i++) {
		uint8_t rd[4 + CDS_DS_DIGEST_MAX];
		rd[0] = (uint8_t)(ds[i].keytag >> 8);
		rd[1] = (uint8_t)ds[i].keytag;
		rd[2] = ds[i].algorithm;
		rd[3] = ds[i].digest_type;
		memcpy(rd + 4, ds[i].digest, ds[i].digest_len);
		if (!append_rr(tas, z, (size_t)zl, CDS_T_DS, 3600, rd, 4 + (size_t)ds[i].digest_len))
			goto out;
	}
	/* getdns needs the DNSKEY RRset among the support records also when
	 * it is the RRset being validated. */
	if (records && support && tas) {
		switch ((int)getdns_validate_dnssec2(records, support, tas, now, 0)) {
		case GETDNS_DNSSEC_SECURE:
			st = CDS_DNSSEC_SECURE;
			break;
		case GETDNS_DNSSEC_BOGUS:
			st = CDS_DNSSEC_BOGUS;
			break;
		case GETDNS_DNSSEC_INSECURE:
			st = CDS_DNSSEC_INSECURE;
			break;
		case GETDNS_DNSSEC_INDETERMINATE:
			st = CDS_DNSSEC_INDETERMINATE;
			break;
		default:
			break;
		}
	}
out:
	if (records)
		getdns_list_destroy(records);
	if (support)
		getdns_list_destroy(support);
	if (tas)
		getdns_list_destroy(tas);
	return st;
}

enum cds_dnssec_status oracle_validate(const char *zone, const struct cds_rrset *set,
				       const struct cds_rrset *dnskey, const struct cds_ds *ds,
				       size_t n, time_t now)
{
	if (set->count == 0 || set->sig_count == 0 || n == 0)
		return CDS_DNSSEC_INSECURE;
	return run(zone, rr_list(set), dnskey, ds, n, now);
}

enum cds_dnssec_status oracle_denial(const char *zone, const struct cds_rrset *set,
				     const struct cds_rrset *dnskey, const struct cds_ds *ds,
				     size_t n, time_t now)
{
	if (n == 0)
		return CDS_DNSSEC_INSECURE;
	return run(zone, denial_list(set), dnskey, ds, n, now);
}
