/* Parsing answers into canonical RRsets (getdns), DNSSEC validation
 * (getdns_validate_dnssec2) and DS digests (OpenSSL). */
#include <ctype.h>
#include <getdns/getdns.h>
#include <getdns/getdns_extra.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdscan/dns.h"
#include "cdscan/error.h"
#include "cdscan/transport.h"

/* Case-insensitive comparison of two wire-form names (RFC 4343). */
static bool wire_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++)
		if (tolower(a[i]) != tolower(b[i]))
			return false;
	return true;
}

static int rdata_cmp(const void *x, const void *y)
{
	const struct cds_rdata *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->data, b->data, n);
	if (c != 0)
		return c;
	return (int)a->len - (int)b->len;
}

static int push_rdata(struct cds_rrset *set, const uint8_t *data, size_t len, bool lower_name)
{
	struct cds_rdata *n = realloc(set->rdata, (set->count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	set->rdata = n;
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return CDS_ENOMEM;
	memcpy(copy, data, len);
	if (lower_name)
		for (size_t i = 0; i < len; i++)
			copy[i] = (uint8_t)tolower(copy[i]);
	set->rdata[set->count].len = (uint16_t)len;
	set->rdata[set->count].data = copy;
	set->count++;
	return 0;
}

static int push_sig(struct cds_rrset *set, getdns_dict *rd)
{
	uint32_t tag = 0, alg = 0, inc = 0, exp = 0;
	getdns_dict_get_int(rd, "key_tag", &tag);
	getdns_dict_get_int(rd, "algorithm", &alg);
	getdns_dict_get_int(rd, "signature_inception", &inc);
	getdns_dict_get_int(rd, "signature_expiration", &exp);
	getdns_bindata *raw = NULL;
	if (getdns_dict_get_bindata(rd, "rdata_raw", &raw) != GETDNS_RETURN_GOOD)
		return CDS_EDATA;
	struct cds_rrsig *n = realloc(set->sigs, (set->sig_count + 1) * sizeof(*n));
	if (!n)
		return CDS_ENOMEM;
	set->sigs = n;
	uint8_t *copy = malloc(raw->size ? raw->size : 1);
	if (!copy)
		return CDS_ENOMEM;
	memcpy(copy, raw->data, raw->size);
	set->sigs[set->sig_count++] = (struct cds_rrsig){
		.key_tag = (uint16_t)tag, .algorithm = (uint8_t)alg,
		.inception = inc, .expiration = exp, .raw_len = (uint16_t)raw->size, .raw = copy};
	return 0;
}

/* The canonical rdata of one record: the names inside NS rdata are taken
 * from getdns's parsed field (uncompressed) and lower-cased; every other
 * type cdscan compares carries no names, so the raw rdata is canonical. */
static int add_record(struct cds_rrset *set, uint16_t type, getdns_dict *rd)
{
	getdns_bindata *b = NULL;
	if (type == CDS_T_NS) {
		if (getdns_dict_get_bindata(rd, "nsdname", &b) != GETDNS_RETURN_GOOD)
			return CDS_EDATA;
		return push_rdata(set, b->data, b->size, true);
	}
	if (getdns_dict_get_bindata(rd, "rdata_raw", &b) != GETDNS_RETURN_GOOD)
		return CDS_EDATA;
	return push_rdata(set, b->data, b->size, false);
}

/*
 * Structural check of a DNS message before getdns sees it.  getdns 1.6's
 * getdns_wire2msg_dict reads past the end of some malformed messages (found
 * by tests/fuzz/fuzz_answer.c: a heap overflow in its memcpy), and the
 * messages come from any nameserver on the Internet.  Written by hand
 * because it is the guard in front of the library: every name (labels,
 * compression pointers that point backwards, RFC 1035 §4.1.4), every RR
 * header and RDLENGTH, and the names inside the rdata of the types that
 * carry them must lie inside the message.
 */
static bool check_name(const uint8_t *m, size_t len, size_t *off, size_t limit)
{
	size_t p = *off, total = 0;
	bool jumped = false;
	int hops = 0;

	for (;;) {
		if (p >= (jumped ? len : limit))
			return false;
		uint8_t l = m[p];
		if ((l & 0xC0) == 0xC0) {
			if (p + 1 >= (jumped ? len : limit))
				return false;
			size_t target = (size_t)(l & 0x3F) << 8 | m[p + 1];
			/* A pointer must point before itself: no loops. */
			if (target >= p || ++hops > 64)
				return false;
			if (!jumped)
				*off = p + 2;
			jumped = true;
			p = target;
			continue;
		}
		if (l & 0xC0)
			return false; /* extended label types are not used */
		total += (size_t)l + 1;
		if (total > 255)
			return false;
		if (l == 0) {
			if (!jumped)
				*off = p + 1;
			return true;
		}
		p += (size_t)l + 1;
	}
}

/* A type bitmap (RFC 4034 §4.1.2) filling [o, end) exactly. */
static bool check_bitmap(const uint8_t *m, size_t o, size_t end)
{
	while (o < end) {
		if (o + 2 > end || m[o + 1] == 0 || m[o + 1] > 32 || o + 2 + m[o + 1] > end)
			return false;
		o += 2 + (size_t)m[o + 1];
	}
	return o == end;
}

/*
 * Only the record types an answer to cdscan's questions carries are let
 * through, each with the lengths inside its rdata checked: getdns's per-type
 * parsers trust those (found by fuzzing: a HIP record whose public-key length
 * points past its rdata made getdns read 48 KiB beyond the message).
 */
static bool check_rdata(const uint8_t *m, size_t len, size_t start, size_t end, uint16_t type)
{
	size_t o = start;
	switch (type) {
	case 16: /* TXT: character strings filling the rdata */
		while (o < end)
			o += 1 + (size_t)m[o];
		return o == end;
	case 50: /* NSEC3: alg, flags, iterations, salt, hash, bitmap */
		if (end - start < 6 || o + 5 + m[o + 4] >= end)
			return false;
		o += 5 + (size_t)m[o + 4];
		if (m[o] == 0 || o + 1 + m[o] > end)
			return false;
		return check_bitmap(m, o + 1 + m[o], end);
	case 51: /* NSEC3PARAM */
		return end - start >= 5 && start + 5 + m[start + 4] == end;
	case 41: /* OPT: option code, length, data */
		while (o < end) {
			if (o + 4 > end)
				return false;
			o += 4 + ((size_t)m[o + 2] << 8 | m[o + 3]);
		}
		return o == end;
	case CDS_T_NS:
	case 5:  /* CNAME */
	case 12: /* PTR */
	case 39: /* DNAME */
		return check_name(m, len, &o, end) && o == end;
	case CDS_T_SOA:
		return check_name(m, len, &o, end) && check_name(m, len, &o, end) && o + 20 == end;
	case 15: /* MX */
		o += 2;
		return o < end && check_name(m, len, &o, end) && o == end;
	case CDS_T_RRSIG:
		o += 18;
		return o < end && check_name(m, len, &o, end) && o < end;
	case 47: /* NSEC */
		return check_name(m, len, &o, end) && check_bitmap(m, o, end);
	case CDS_T_A:
		return end - start == 4;
	case CDS_T_AAAA:
		return end - start == 16;
	case CDS_T_DNSKEY:
	case CDS_T_CDNSKEY:
		return end - start >= 4;
	case CDS_T_DS:
	case CDS_T_CDS:
		return end - start >= 5;
	case CDS_T_CSYNC:
		return end - start >= 6 && check_bitmap(m, start + 6, end);
	default:
		return false;
	}
}

static bool message_well_formed(const uint8_t *m, size_t len)
{
	if (len < 12)
		return false;
	size_t off = 12;
	unsigned qd = (unsigned)m[4] << 8 | m[5];
	unsigned rrs = ((unsigned)m[6] << 8 | m[7]) + ((unsigned)m[8] << 8 | m[9]) +
		       ((unsigned)m[10] << 8 | m[11]);
	for (unsigned i = 0; i < qd; i++) {
		if (!check_name(m, len, &off, len) || off + 4 > len)
			return false;
		off += 4;
	}
	for (unsigned i = 0; i < rrs; i++) {
		if (!check_name(m, len, &off, len) || off + 10 > len)
			return false;
		uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
		size_t rdlen = (size_t)m[off + 8] << 8 | m[off + 9];
		off += 10;
		if (off + rdlen > len || !check_rdata(m, len, off, off + rdlen, type))
			return false;
		off += rdlen;
	}
	return true;
}

int cds_answer_parse(const uint8_t *wire, size_t len, const char *qname, uint16_t qtype,
		     struct cds_answer_info *info, struct cds_rrset *out)
{
	getdns_dict *msg = NULL, *header = NULL;
	getdns_list *answer = NULL, *authority = NULL;
	uint8_t qwire[256];
	int qlen = cds_dname_to_wire(qname, qwire);
	uint32_t v;
	int r = 0;

	memset(out, 0, sizeof(*out));
	memset(info, 0, sizeof(*info));
	out->type = qtype;
	if (qlen < 0)
		return CDS_EINVAL;
	if (!message_well_formed(wire, len) ||
	    getdns_wire2msg_dict(wire, len, &msg) != GETDNS_RETURN_GOOD)
		return CDS_EDATA;
	if (getdns_dict_get_dict(msg, "header", &header) != GETDNS_RETURN_GOOD) {
		getdns_dict_destroy(msg);
		return CDS_EDATA;
	}
	if (getdns_dict_get_int(header, "rcode", &v) == GETDNS_RETURN_GOOD)
		info->rcode = (int)v;
	if (getdns_dict_get_int(header, "aa", &v) == GETDNS_RETURN_GOOD)
		info->aa = v != 0;
	if (getdns_dict_get_int(header, "tc", &v) == GETDNS_RETURN_GOOD)
		info->tc = v != 0;
	if (getdns_dict_get_int(header, "ad", &v) == GETDNS_RETURN_GOOD)
		info->ad = v != 0;
	out->rcode = info->rcode;
	out->present = true;

	getdns_list *vlist = getdns_list_create();
	if (!vlist) {
		getdns_dict_destroy(msg);
		return CDS_ENOMEM;
	}
	size_t n = 0, vn = 0;
	if (getdns_dict_get_list(msg, "answer", &answer) == GETDNS_RETURN_GOOD)
		getdns_list_get_length(answer, &n);
	for (size_t i = 0; i < n && r == 0; i++) {
		getdns_dict *rr = NULL, *rd = NULL;
		getdns_bindata *name = NULL;
		uint32_t type = 0, covered = 0;
		if (getdns_list_get_dict(answer, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_bindata(rr, "name", &name) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_dict(rr, "rdata", &rd) != GETDNS_RETURN_GOOD)
			continue;
		if (!wire_name_equal(name->data, name->size, qwire, (size_t)qlen))
			continue;
		if (type == qtype) {
			r = add_record(out, (uint16_t)type, rd);
			if (type == CDS_T_SOA)
				getdns_dict_get_int(rd, "serial", &info->soa_serial);
		} else if (type == CDS_T_RRSIG &&
			   getdns_dict_get_int(rd, "type_covered", &covered) == GETDNS_RETURN_GOOD &&
			   covered == qtype) {
			r = push_sig(out, rd);
		} else {
			continue;
		}
		if (r == 0 && getdns_list_set_dict(vlist, vn++, rr) != GETDNS_RETURN_GOOD)
			r = CDS_ENOMEM;
	}
	/* A referral: nothing in the answer, NS records in the authority
	 * section for a name other than the zone asked about. */
	size_t an = 0;
	if (answer)
		getdns_list_get_length(answer, &an);
	if (r == 0 && an == 0 && !info->aa &&
	    getdns_dict_get_list(msg, "authority", &authority) == GETDNS_RETURN_GOOD) {
		size_t m = 0;
		getdns_list_get_length(authority, &m);
		for (size_t i = 0; i < m; i++) {
			getdns_dict *rr = NULL;
			uint32_t type = 0;
			if (getdns_list_get_dict(authority, i, &rr) == GETDNS_RETURN_GOOD &&
			    getdns_dict_get_int(rr, "type", &type) == GETDNS_RETURN_GOOD &&
			    type == CDS_T_NS)
				info->referral = true;
		}
	}
	getdns_dict_destroy(msg);
	if (r != 0) {
		getdns_list_destroy(vlist);
		cds_rrset_clear(out);
		return r;
	}
	out->validation = vlist;
	/* Canonical order, duplicates removed (RFC 2181 §5: an RRset is a set). */
	if (out->count > 1) {
		qsort(out->rdata, out->count, sizeof(*out->rdata), rdata_cmp);
		size_t w = 1;
		for (size_t i = 1; i < out->count; i++) {
			if (rdata_cmp(&out->rdata[w - 1], &out->rdata[i]) == 0)
				free(out->rdata[i].data);
			else
				out->rdata[w++] = out->rdata[i];
		}
		out->count = w;
	}
	return 0;
}

/* NS records at owner (wire form) in a section, into out. */
static void referral_ns(getdns_list *section, const uint8_t *owner, size_t olen,
			struct cds_referral *out)
{
	size_t n = 0;
	getdns_list_get_length(section, &n);
	for (size_t i = 0; i < n && out->ns_count < CDS_REFERRAL_MAX_NS; i++) {
		getdns_dict *rr = NULL, *rd = NULL;
		getdns_bindata *name = NULL, *ns = NULL;
		uint32_t type = 0;
		if (getdns_list_get_dict(section, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) != GETDNS_RETURN_GOOD || type != CDS_T_NS ||
		    getdns_dict_get_bindata(rr, "name", &name) != GETDNS_RETURN_GOOD ||
		    !wire_name_equal(name->data, name->size, owner, olen) ||
		    getdns_dict_get_dict(rr, "rdata", &rd) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_bindata(rd, "nsdname", &ns) != GETDNS_RETURN_GOOD)
			continue;
		char txt[CDS_DNAME_BUFSIZE];
		if (cds_dname_from_wire(ns->data, ns->size, txt) != 0)
			continue;
		bool dup = false;
		for (size_t k = 0; k < out->ns_count && !dup; k++)
			dup = strcmp(out->ns[k].name, txt) == 0;
		if (!dup)
			snprintf(out->ns[out->ns_count++].name, CDS_DNAME_BUFSIZE, "%s", txt);
	}
}

int cds_referral_parse(const uint8_t *wire, size_t len, const char *domain,
		       struct cds_referral *out)
{
	getdns_dict *msg = NULL;
	getdns_list *sec = NULL;
	uint8_t owner[256];
	int olen = cds_dname_to_wire(domain, owner);

	memset(out, 0, sizeof(*out));
	if (olen < 0)
		return CDS_EINVAL;
	if (!message_well_formed(wire, len) ||
	    getdns_wire2msg_dict(wire, len, &msg) != GETDNS_RETURN_GOOD)
		return CDS_EDATA;
	if (getdns_dict_get_list(msg, "authority", &sec) == GETDNS_RETURN_GOOD)
		referral_ns(sec, owner, (size_t)olen, out);
	if (out->ns_count == 0 && getdns_dict_get_list(msg, "answer", &sec) == GETDNS_RETURN_GOOD)
		referral_ns(sec, owner, (size_t)olen, out);
	size_t n = 0;
	if (getdns_dict_get_list(msg, "additional", &sec) == GETDNS_RETURN_GOOD)
		getdns_list_get_length(sec, &n);
	for (size_t i = 0; i < n; i++) {
		getdns_dict *rr = NULL, *rd = NULL;
		getdns_bindata *name = NULL, *raw = NULL;
		uint32_t type = 0;
		char txt[CDS_DNAME_BUFSIZE];
		if (getdns_list_get_dict(sec, i, &rr) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_int(rr, "type", &type) != GETDNS_RETURN_GOOD ||
		    (type != CDS_T_A && type != CDS_T_AAAA) ||
		    getdns_dict_get_bindata(rr, "name", &name) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_dict(rr, "rdata", &rd) != GETDNS_RETURN_GOOD ||
		    getdns_dict_get_bindata(rd, "rdata_raw", &raw) != GETDNS_RETURN_GOOD ||
		    cds_dname_from_wire(name->data, name->size, txt) != 0)
			continue;
		for (size_t k = 0; k < out->ns_count; k++) {
			if (strcmp(out->ns[k].name, txt) != 0 || out->ns[k].addr_count >= 8)
				continue;
			if (cds_addr_from_rdata(raw->data, raw->size, 53,
						&out->ns[k].addrs[out->ns[k].addr_count]) == 0)
				out->ns[k].addr_count++;
		}
	}
	getdns_dict_destroy(msg);
	return out->ns_count ? 0 : CDS_ENOENT;
}

void cds_rrset_clear(struct cds_rrset *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->count; i++)
		free(set->rdata[i].data);
	free(set->rdata);
	for (size_t i = 0; i < set->sig_count; i++)
		free(set->sigs[i].raw);
	free(set->sigs);
	if (set->validation)
		getdns_list_destroy(set->validation);
	memset(set, 0, sizeof(*set));
}

int cds_rrset_copy_records(const struct cds_rrset *src, struct cds_rrset *dst)
{
	memset(dst, 0, sizeof(*dst));
	dst->type = src->type;
	dst->rcode = src->rcode;
	dst->present = src->present;
	if (src->count == 0)
		return 0;
	dst->rdata = calloc(src->count, sizeof(*dst->rdata));
	if (!dst->rdata)
		return CDS_ENOMEM;
	for (size_t i = 0; i < src->count; i++) {
		dst->rdata[i].data = malloc(src->rdata[i].len ? src->rdata[i].len : 1);
		if (!dst->rdata[i].data) {
			cds_rrset_clear(dst);
			return CDS_ENOMEM;
		}
		memcpy(dst->rdata[i].data, src->rdata[i].data, src->rdata[i].len);
		dst->rdata[i].len = src->rdata[i].len;
		dst->count = i + 1;
	}
	return 0;
}

bool cds_rrset_equal(const struct cds_rrset *a, const struct cds_rrset *b)
{
	if (a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++)
		if (rdata_cmp(&a->rdata[i], &b->rdata[i]) != 0)
			return false;
	return true;
}

bool cds_rrset_identical(const struct cds_rrset *a, const struct cds_rrset *b)
{
	if (a == b)
		return true;
	if (!cds_rrset_equal(a, b) || a->sig_count != b->sig_count)
		return false;
	for (size_t i = 0; i < a->sig_count; i++) {
		bool found = false;
		for (size_t k = 0; k < b->sig_count && !found; k++)
			found = a->sigs[i].raw_len == b->sigs[k].raw_len &&
				memcmp(a->sigs[i].raw, b->sigs[k].raw, a->sigs[i].raw_len) == 0;
		if (!found)
			return false;
	}
	return true;
}

/* A DS record as a getdns rr dict, for the trust anchor list. */
static getdns_dict *ds_dict(const uint8_t *owner, size_t olen, const struct cds_ds *ds)
{
	uint8_t wire[256 + 10 + 4 + CDS_DS_DIGEST_MAX];
	size_t o = 0;
	memcpy(wire, owner, olen);
	o = olen;
	size_t rdlen = 4 + (size_t)ds->digest_len;
	uint8_t fixed[10] = {0, CDS_T_DS, 0, 1, 0, 0, 0x0e, 0x10, (uint8_t)(rdlen >> 8),
			     (uint8_t)rdlen};
	memcpy(wire + o, fixed, sizeof(fixed));
	o += sizeof(fixed);
	wire[o++] = (uint8_t)(ds->keytag >> 8);
	wire[o++] = (uint8_t)ds->keytag;
	wire[o++] = ds->algorithm;
	wire[o++] = ds->digest_type;
	memcpy(wire + o, ds->digest, ds->digest_len);
	o += ds->digest_len;
	getdns_dict *d = NULL;
	if (getdns_wire2rr_dict(wire, o, &d) != GETDNS_RETURN_GOOD)
		return NULL;
	return d;
}

enum cds_dnssec_status cds_dnssec_validate(const char *owner, const struct cds_rrset *set,
					   const struct cds_rrset *dnskey,
					   const struct cds_ds *ds, size_t n, time_t now)
{
	uint8_t ow[256];
	int olen = cds_dname_to_wire(owner, ow);
	enum cds_dnssec_status st = CDS_DNSSEC_ERROR;

	if (olen < 0 || !set->validation || !dnskey->validation)
		return CDS_DNSSEC_ERROR;
	if (set->count == 0 || set->sig_count == 0 || n == 0)
		return CDS_DNSSEC_INSECURE;
	getdns_list *tas = getdns_list_create();
	if (!tas)
		goto out;
	for (size_t i = 0; i < n; i++) {
		getdns_dict *d = ds_dict(ow, (size_t)olen, &ds[i]);
		if (!d)
			goto out;
		getdns_return_t r = getdns_list_set_dict(tas, i, d);
		getdns_dict_destroy(d);
		if (r != GETDNS_RETURN_GOOD)
			goto out;
	}
	/* getdns needs the DNSKEY RRset (with its RRSIGs) among the support
	 * records also when it is the RRset being validated (measured: BOGUS
	 * with an empty support list, SECURE with it). */
	switch ((int)getdns_validate_dnssec2(set->validation, dnskey->validation, tas, now, 0)) {
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
		st = CDS_DNSSEC_ERROR;
	}
out:
	if (tas)
		getdns_list_destroy(tas);
	return st;
}

uint16_t cds_dnskey_keytag(const uint8_t *rdata, size_t len)
{
	uint32_t ac = 0;
	for (size_t i = 0; i < len; i++)
		ac += (i & 1) ? rdata[i] : (uint32_t)rdata[i] << 8;
	ac += (ac >> 16) & 0xFFFF;
	return (uint16_t)(ac & 0xFFFF);
}

int cds_ds_from_dnskey(const char *owner, const uint8_t *rdata, size_t len, uint8_t digest_type,
		       struct cds_ds *out)
{
	const EVP_MD *md;
	uint8_t ow[256];
	int olen = cds_dname_to_wire(owner, ow);

	switch (digest_type) {
	case 1:
		md = EVP_sha1();
		break;
	case 2:
		md = EVP_sha256();
		break;
	case 4:
		md = EVP_sha384();
		break;
	default:
		return CDS_EINVAL;
	}
	if (olen < 0 || len < 4)
		return CDS_EINVAL;
	for (int i = 0; i < olen; i++)
		ow[i] = (uint8_t)tolower(ow[i]);
	memset(out, 0, sizeof(*out));
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int dlen = 0;
	int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, ow, (size_t)olen) &&
		 EVP_DigestUpdate(ctx, rdata, len) && EVP_DigestFinal_ex(ctx, out->digest, &dlen);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return CDS_ECRYPTO;
	out->digest_len = (uint8_t)dlen;
	out->keytag = cds_dnskey_keytag(rdata, len);
	out->algorithm = rdata[3];
	out->digest_type = digest_type;
	return 0;
}

int cds_ds_from_rdata(const uint8_t *rdata, size_t len, struct cds_ds *out)
{
	if (len < 5 || len - 4 > CDS_DS_DIGEST_MAX)
		return CDS_EDATA;
	memset(out, 0, sizeof(*out));
	out->keytag = (uint16_t)(rdata[0] << 8 | rdata[1]);
	out->algorithm = rdata[2];
	out->digest_type = rdata[3];
	out->digest_len = (uint8_t)(len - 4);
	memcpy(out->digest, rdata + 4, len - 4);
	return 0;
}

int cds_dnskey_format(const uint8_t *rdata, size_t len, char *buf, size_t buflen)
{
	if (len < 4)
		return CDS_EDATA;
	size_t b64 = 4 * ((len - 4 + 2) / 3) + 1;
	int n = snprintf(buf, buflen, "%u %u %u ", rdata[0] << 8 | rdata[1], rdata[2], rdata[3]);
	if (n < 0 || (size_t)n + b64 > buflen)
		return CDS_ERANGE;
	EVP_EncodeBlock((unsigned char *)buf + n, rdata + 4, (int)(len - 4));
	return 0;
}

static const char *type_name(unsigned t, char *tmp, size_t len)
{
	switch (t) {
	case CDS_T_A:
		return "A";
	case CDS_T_NS:
		return "NS";
	case CDS_T_SOA:
		return "SOA";
	case CDS_T_AAAA:
		return "AAAA";
	default:
		snprintf(tmp, len, "TYPE%u", t);
		return tmp;
	}
}

int cds_csync_format(const uint8_t *rdata, size_t len, char *buf, size_t buflen)
{
	if (len < 6)
		return CDS_EDATA;
	uint32_t serial = (uint32_t)rdata[0] << 24 | (uint32_t)rdata[1] << 16 |
			  (uint32_t)rdata[2] << 8 | rdata[3];
	int n = snprintf(buf, buflen, "%u %u", serial, rdata[4] << 8 | rdata[5]);
	/* Type bit map (RFC 4034 §4.1.2): window, length, bitmap. */
	for (size_t o = 6; o + 2 <= len && n > 0 && (size_t)n < buflen;) {
		unsigned window = rdata[o], blen = rdata[o + 1];
		if (blen == 0 || blen > 32 || o + 2 + blen > len)
			return CDS_EDATA;
		for (unsigned i = 0; i < blen * 8; i++) {
			if (rdata[o + 2 + i / 8] & (0x80 >> (i % 8))) {
				char tmp[16];
				n += snprintf(buf + n, buflen - (size_t)n, " %s",
					      type_name(window * 256 + i, tmp, sizeof(tmp)));
				if ((size_t)n >= buflen)
					return CDS_ERANGE;
			}
		}
		o += 2 + blen;
	}
	return (n > 0 && (size_t)n < buflen) ? 0 : CDS_ERANGE;
}

int cds_csync_parse(const uint8_t *rdata, size_t len, struct cds_csync *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 6)
		return CDS_EDATA;
	out->serial = (uint32_t)rdata[0] << 24 | (uint32_t)rdata[1] << 16 |
		      (uint32_t)rdata[2] << 8 | rdata[3];
	out->flags = (uint16_t)(rdata[4] << 8 | rdata[5]);
	int last_window = -1;
	for (size_t o = 6; o < len;) {
		if (o + 2 > len)
			return CDS_EDATA;
		unsigned window = rdata[o], blen = rdata[o + 1];
		if ((int)window <= last_window || blen == 0 || blen > 32 || o + 2 + blen > len)
			return CDS_EDATA;
		last_window = (int)window;
		for (unsigned i = 0; i < blen * 8; i++) {
			if (!(rdata[o + 2 + i / 8] & (0x80 >> (i % 8))))
				continue;
			uint16_t t = (uint16_t)(window * 256 + i);
			if (t == CDS_T_NS)
				out->ns = true;
			else if (t == CDS_T_A)
				out->a = true;
			else if (t == CDS_T_AAAA)
				out->aaaa = true;
			else if (!out->other_type)
				out->other_type = t;
		}
		o += 2 + blen;
	}
	return 0;
}

bool cds_rdata_is_cds_delete(const struct cds_rdata *rd)
{
	static const uint8_t del[] = {0, 0, 0, 0, 0};
	return rd->len == sizeof(del) && memcmp(rd->data, del, sizeof(del)) == 0;
}

bool cds_rdata_is_cdnskey_delete(const struct cds_rdata *rd)
{
	/* "0 3 0 AA==": flags 0, protocol 3, algorithm 0, one zero octet. */
	static const uint8_t del[] = {0, 0, 3, 0, 0};
	return rd->len == sizeof(del) && memcmp(rd->data, del, sizeof(del)) == 0;
}

int cds_rrsig_signer(const struct cds_rrsig *sig, char out[CDS_DNAME_BUFSIZE])
{
	/* RFC 4034 §3.1.7: after 18 fixed octets, uncompressed. */
	if (sig->raw_len <= 18)
		return CDS_EDATA;
	const uint8_t *w = sig->raw + 18;
	size_t max = sig->raw_len - 18u, i = 0;
	while (i < max && w[i] != 0)
		i += (size_t)w[i] + 1;
	if (i >= max)
		return CDS_EDATA;
	return cds_dname_from_wire(w, i + 1, out);
}
