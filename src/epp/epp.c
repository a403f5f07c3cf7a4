/* EPP documents (libxml2: escaping and namespaces) and the atomic spool. */
#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdscan/epp.h"
#include "cdscan/error.h"
#include "cdscan/util.h"

#define NS_EPP "urn:ietf:params:xml:ns:epp-1.0"
#define NS_DOMAIN "urn:ietf:params:xml:ns:domain-1.0"
#define NS_SECDNS "urn:ietf:params:xml:ns:secDNS-1.1"
#define NS_HOST "urn:ietf:params:xml:ns:host-1.0"

/* <secDNS:dsData> for one DS text (RFC 5910 §4.1). */
static int add_ds_data(xmlNodePtr parent, xmlNsPtr ns, const char *text)
{
	struct cds_ds ds;
	char buf[CDS_DS_TEXT_MAX], num[8];
	if (cds_ds_parse(text, &ds) != 0)
		return CDS_EDATA;
	cds_ds_format(&ds, buf);
	xmlNodePtr d = xmlNewChild(parent, ns, BAD_CAST "dsData", NULL);
	if (!d)
		return CDS_ENOMEM;
	snprintf(num, sizeof(num), "%u", ds.keytag);
	xmlNewTextChild(d, ns, BAD_CAST "keyTag", BAD_CAST num);
	snprintf(num, sizeof(num), "%u", ds.algorithm);
	xmlNewTextChild(d, ns, BAD_CAST "alg", BAD_CAST num);
	snprintf(num, sizeof(num), "%u", ds.digest_type);
	xmlNewTextChild(d, ns, BAD_CAST "digestType", BAD_CAST num);
	/* The digest is the last field of the presentation form. */
	xmlNewTextChild(d, ns, BAD_CAST "digest", BAD_CAST strrchr(buf, ' ') + 1);
	return 0;
}

/* An EPP command document under construction (RFC 5730 §2.5). */
struct cmd_doc {
	xmlDocPtr doc;
	xmlNodePtr cmd;
	xmlNsPtr ns_epp;
};

/* <epp><command><VERB>: returns the verb element. */
static xmlNodePtr doc_begin(struct cmd_doc *d, const char *verb)
{
	memset(d, 0, sizeof(*d));
	d->doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr epp = d->doc ? xmlNewNode(NULL, BAD_CAST "epp") : NULL;
	if (!epp)
		return NULL;
	d->ns_epp = xmlNewNs(epp, BAD_CAST NS_EPP, NULL);
	xmlSetNs(epp, d->ns_epp);
	xmlDocSetRootElement(d->doc, epp);
	d->cmd = xmlNewChild(epp, d->ns_epp, BAD_CAST "command", NULL);
	return d->cmd ? xmlNewChild(d->cmd, d->ns_epp, BAD_CAST verb, NULL) : NULL;
}

/* An object element (domain:update, host:create...) in its namespace. */
static xmlNodePtr object(xmlNodePtr parent, const char *uri, const char *prefix,
			 const char *name, xmlNsPtr *ns)
{
	xmlNodePtr n = xmlNewChild(parent, NULL, BAD_CAST name, NULL);
	if (!n)
		return NULL;
	*ns = xmlNewNs(n, BAD_CAST uri, BAD_CAST prefix);
	xmlSetNs(n, *ns);
	return n;
}

/* Close with the clTRID and serialise into *xml (malloc'd). */
static int doc_finish(struct cmd_doc *d, const char *cltrid, char **xml, size_t *len)
{
	int r = CDS_ENOMEM;
	xmlNewTextChild(d->cmd, d->ns_epp, BAD_CAST "clTRID", BAD_CAST cltrid);
	xmlChar *mem = NULL;
	int size = 0;
	xmlDocDumpFormatMemoryEnc(d->doc, &mem, &size, "UTF-8", 1);
	if (mem) {
		*xml = malloc((size_t)size + 1);
		if (*xml) {
			memcpy(*xml, mem, (size_t)size);
			(*xml)[size] = '\0';
			*len = (size_t)size;
			r = 0;
		}
		xmlFree(mem);
	}
	xmlFreeDoc(d->doc);
	d->doc = NULL;
	return r;
}

static void doc_abort(struct cmd_doc *d)
{
	xmlFreeDoc(d->doc);
	d->doc = NULL;
}

/* EPP names carry no trailing dot (RFC 5731 §2.1, RFC 5732 §2.1). */
static void epp_name(const char *in, char out[CDS_DNAME_BUFSIZE])
{
	snprintf(out, CDS_DNAME_BUFSIZE, "%s", in);
	size_t nl = strlen(out);
	if (nl > 1 && out[nl - 1] == '.')
		out[nl - 1] = '\0';
}

/* <secDNS:keyData> for one DNSKEY text "FLAGS PROTOCOL ALG BASE64" (RFC 5910
 * §4.2). */
static int add_key_data(xmlNodePtr parent, xmlNsPtr ns, const char *text)
{
	unsigned flags, proto, alg;
	int off = 0;
	if (sscanf(text, "%u %u %u %n", &flags, &proto, &alg, &off) != 3 || off <= 0 ||
	    flags > 65535 || proto > 255 || alg > 255 || !text[off])
		return CDS_EDATA;
	char key[4096];
	size_t k = 0;
	for (const char *p = text + off; *p && k + 1 < sizeof(key); p++)
		if (*p != ' ')
			key[k++] = *p;
	key[k] = '\0';
	xmlNodePtr d = xmlNewChild(parent, ns, BAD_CAST "keyData", NULL);
	if (!d)
		return CDS_ENOMEM;
	char num[8];
	snprintf(num, sizeof(num), "%u", flags);
	xmlNewTextChild(d, ns, BAD_CAST "flags", BAD_CAST num);
	snprintf(num, sizeof(num), "%u", proto);
	xmlNewTextChild(d, ns, BAD_CAST "protocol", BAD_CAST num);
	snprintf(num, sizeof(num), "%u", alg);
	xmlNewTextChild(d, ns, BAD_CAST "alg", BAD_CAST num);
	xmlNewTextChild(d, ns, BAD_CAST "pubKey", BAD_CAST key);
	return 0;
}

int cds_epp_ds_update(const struct cds_epp_ds_change *c, char **xml, size_t *len)
{
	char name[CDS_DNAME_BUFSIZE];
	struct cmd_doc d;
	xmlNsPtr ns_dom, ns_sec;
	int r = CDS_ENOMEM;

	epp_name(c->domain, name);
	xmlNodePtr upd = doc_begin(&d, "update");
	xmlNodePtr dupd = upd ? object(upd, NS_DOMAIN, "domain", "update", &ns_dom) : NULL;
	if (!dupd)
		goto fail;
	xmlNewTextChild(dupd, ns_dom, BAD_CAST "name", BAD_CAST name);
	xmlNodePtr ext = xmlNewChild(d.cmd, d.ns_epp, BAD_CAST "extension", NULL);
	xmlNodePtr supd = ext ? object(ext, NS_SECDNS, "secDNS", "update", &ns_sec) : NULL;
	if (!supd)
		goto fail;
	/* RFC 5910 §5: rem before add.  Keys are replaced as a whole: the
	 * registry's key set is not known here, only the DS the parent holds. */
	if (c->remove_all || (c->key_data && c->had_ds)) {
		xmlNodePtr rem = xmlNewChild(supd, ns_sec, BAD_CAST "rem", NULL);
		xmlNewTextChild(rem, ns_sec, BAD_CAST "all", BAD_CAST "true");
	} else if (c->nrem && !c->key_data) {
		xmlNodePtr rem = xmlNewChild(supd, ns_sec, BAD_CAST "rem", NULL);
		for (size_t i = 0; i < c->nrem; i++)
			if ((r = add_ds_data(rem, ns_sec, c->rem[i])) != 0)
				goto fail;
	}
	if (c->key_data && !c->remove_all) {
		if (c->nkeys == 0) {
			r = CDS_EDATA; /* nothing to express the DS set with */
			goto fail;
		}
		xmlNodePtr add = xmlNewChild(supd, ns_sec, BAD_CAST "add", NULL);
		for (size_t i = 0; i < c->nkeys; i++)
			if ((r = add_key_data(add, ns_sec, c->keys[i])) != 0)
				goto fail;
	} else if (c->nadd) {
		xmlNodePtr add = xmlNewChild(supd, ns_sec, BAD_CAST "add", NULL);
		for (size_t i = 0; i < c->nadd; i++)
			if ((r = add_ds_data(add, ns_sec, c->add[i])) != 0)
				goto fail;
	}
	return doc_finish(&d, c->cltrid, xml, len);
fail:
	doc_abort(&d);
	return r;
}

/* <host:addr ip="v4|v6"> elements. */
static int add_addrs(xmlNodePtr parent, xmlNsPtr ns, const char *elem,
		     const char *const *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct cds_addr a;
		if (cds_addr_parse(addrs[i], 53, &a) != 0)
			return CDS_EDATA;
		xmlNodePtr e = xmlNewTextChild(parent, ns, BAD_CAST elem, BAD_CAST addrs[i]);
		if (!e)
			return CDS_ENOMEM;
		xmlNewProp(e, BAD_CAST "ip", BAD_CAST(strchr(addrs[i], ':') ? "v6" : "v4"));
	}
	return 0;
}

int cds_epp_host_command(const struct cds_epp_host_change *c, char **xml, size_t *len)
{
	static const char *const verbs[] = {"create", "update", "delete"};
	char name[CDS_DNAME_BUFSIZE];
	struct cmd_doc d;
	xmlNsPtr ns;
	int r = CDS_ENOMEM;

	epp_name(c->host, name);
	xmlNodePtr verb = doc_begin(&d, verbs[c->op]);
	xmlNodePtr h = verb ? object(verb, NS_HOST, "host", verbs[c->op], &ns) : NULL;
	if (!h)
		goto fail;
	xmlNewTextChild(h, ns, BAD_CAST "name", BAD_CAST name);
	if (c->op == CDS_EPP_HOST_CREATE) {
		if ((r = add_addrs(h, ns, "addr", c->add, c->nadd)) != 0)
			goto fail;
	} else if (c->op == CDS_EPP_HOST_UPDATE) {
		/* RFC 5732 §3.2.5: add, then rem. */
		if (c->nadd) {
			xmlNodePtr add = xmlNewChild(h, ns, BAD_CAST "add", NULL);
			if ((r = add_addrs(add, ns, "addr", c->add, c->nadd)) != 0)
				goto fail;
		}
		if (c->nrem) {
			xmlNodePtr rem = xmlNewChild(h, ns, BAD_CAST "rem", NULL);
			if ((r = add_addrs(rem, ns, "addr", c->rem, c->nrem)) != 0)
				goto fail;
		}
		if (!c->nadd && !c->nrem) {
			r = CDS_EDATA; /* an empty update is not valid EPP */
			goto fail;
		}
	}
	return doc_finish(&d, c->cltrid, xml, len);
fail:
	doc_abort(&d);
	return r;
}

/* <domain:ns> with hostObj names, or hostAttr names with their addresses. */
static int add_ns(xmlNodePtr parent, xmlNsPtr ns, bool host_attr, const struct cds_epp_host *h,
		  size_t n)
{
	xmlNodePtr nsn = xmlNewChild(parent, ns, BAD_CAST "ns", NULL);
	if (!nsn)
		return CDS_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char name[CDS_DNAME_BUFSIZE];
		epp_name(h[i].name, name);
		if (!host_attr) {
			xmlNewTextChild(nsn, ns, BAD_CAST "hostObj", BAD_CAST name);
			continue;
		}
		xmlNodePtr a = xmlNewChild(nsn, ns, BAD_CAST "hostAttr", NULL);
		if (!a)
			return CDS_ENOMEM;
		xmlNewTextChild(a, ns, BAD_CAST "hostName", BAD_CAST name);
		int r = add_addrs(a, ns, "hostAddr", h[i].addrs, h[i].naddrs);
		if (r != 0)
			return r;
	}
	return 0;
}

int cds_epp_ns_update(const struct cds_epp_ns_change *c, char **xml, size_t *len)
{
	char name[CDS_DNAME_BUFSIZE];
	struct cmd_doc d;
	xmlNsPtr ns;
	int r = CDS_ENOMEM;

	if (c->nadd == 0 && c->nrem == 0)
		return CDS_EDATA;
	epp_name(c->domain, name);
	xmlNodePtr upd = doc_begin(&d, "update");
	xmlNodePtr dupd = upd ? object(upd, NS_DOMAIN, "domain", "update", &ns) : NULL;
	if (!dupd)
		goto fail;
	xmlNewTextChild(dupd, ns, BAD_CAST "name", BAD_CAST name);
	/* RFC 5731 §3.2.5: add before rem in the schema's sequence. */
	if (c->nadd) {
		xmlNodePtr add = xmlNewChild(dupd, ns, BAD_CAST "add", NULL);
		if (!add || (r = add_ns(add, ns, c->host_attr, c->add, c->nadd)) != 0)
			goto fail;
	}
	if (c->nrem) {
		xmlNodePtr rem = xmlNewChild(dupd, ns, BAD_CAST "rem", NULL);
		if (!rem || (r = add_ns(rem, ns, c->host_attr, c->rem, c->nrem)) != 0)
			goto fail;
	}
	return doc_finish(&d, c->cltrid, xml, len);
fail:
	doc_abort(&d);
	return r;
}

int cds_epp_login(const char *clid, const char *password, const char *cltrid, char **xml,
		  size_t *len)
{
	struct cmd_doc d;
	xmlNodePtr login = doc_begin(&d, "login");
	if (!login) {
		doc_abort(&d);
		return CDS_ENOMEM;
	}
	xmlNsPtr e = d.ns_epp;
	xmlNewTextChild(login, e, BAD_CAST "clID", BAD_CAST clid);
	xmlNewTextChild(login, e, BAD_CAST "pw", BAD_CAST password);
	xmlNodePtr opt = xmlNewChild(login, e, BAD_CAST "options", NULL);
	xmlNewTextChild(opt, e, BAD_CAST "version", BAD_CAST "1.0");
	xmlNewTextChild(opt, e, BAD_CAST "lang", BAD_CAST "en");
	xmlNodePtr svcs = xmlNewChild(login, e, BAD_CAST "svcs", NULL);
	xmlNewTextChild(svcs, e, BAD_CAST "objURI", BAD_CAST NS_DOMAIN);
	xmlNewTextChild(svcs, e, BAD_CAST "objURI", BAD_CAST NS_HOST);
	xmlNodePtr ext = xmlNewChild(svcs, e, BAD_CAST "svcExtension", NULL);
	xmlNewTextChild(ext, e, BAD_CAST "extURI", BAD_CAST NS_SECDNS);
	return doc_finish(&d, cltrid, xml, len);
}

int cds_epp_logout(const char *cltrid, char **xml, size_t *len)
{
	struct cmd_doc d;
	if (!doc_begin(&d, "logout")) {
		doc_abort(&d);
		return CDS_ENOMEM;
	}
	return doc_finish(&d, cltrid, xml, len);
}

int cds_epp_info(bool host, const char *name, const char *cltrid, char **xml, size_t *len)
{
	char n[CDS_DNAME_BUFSIZE];
	struct cmd_doc d;
	xmlNsPtr ns;
	epp_name(name, n);
	xmlNodePtr info = doc_begin(&d, "info");
	xmlNodePtr o = info ? object(info, host ? NS_HOST : NS_DOMAIN, host ? "host" : "domain",
				     "info", &ns)
			    : NULL;
	if (!o) {
		doc_abort(&d);
		return CDS_ENOMEM;
	}
	xmlNodePtr nn = xmlNewTextChild(o, ns, BAD_CAST "name", BAD_CAST n);
	if (!host)
		xmlNewProp(nn, BAD_CAST "hosts", BAD_CAST "all");
	return doc_finish(&d, cltrid, xml, len);
}

static bool is_epp(xmlNodePtr n, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, NS_EPP) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

static xmlNodePtr child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (is_epp(c, name))
			return c;
	return NULL;
}

static void text_of(xmlNodePtr n, char *out, size_t len)
{
	xmlChar *t = n ? xmlNodeGetContent(n) : NULL;
	snprintf(out, len, "%s", t ? (const char *)t : "");
	xmlFree(t);
}

/* A document from the registry (untrusted): no network, no entity
 * expansion, no DTD.  NULL when it is not well-formed or carries a DTD. */
static xmlDocPtr read_untrusted(const char *buf, size_t len, const char *name)
{
	if (len > INT32_MAX)
		return NULL;
	xmlDocPtr doc = xmlReadMemory(buf, (int)len, name, NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	/* EPP never carries a DTD; one with entities could expand without
	 * bound when the text is read ("billion laughs"): refuse it. */
	if (doc && (doc->intSubset || doc->extSubset)) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

int cds_epp_parse_response(const char *buf, size_t len, struct cds_epp_response *out)
{
	memset(out, 0, sizeof(*out));
	xmlDocPtr doc = read_untrusted(buf, len, "epp-response.xml");
	if (!doc)
		return CDS_EDATA;
	int r = CDS_EDATA;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!is_epp(root, "epp"))
		goto out;
	if (child(root, "greeting")) {
		out->greeting = true;
		r = 0;
		goto out;
	}
	xmlNodePtr resp = child(root, "response");
	xmlNodePtr result = child(resp, "result");
	if (!result)
		goto out;
	xmlChar *code = xmlGetProp(result, BAD_CAST "code");
	if (code) {
		char *end = NULL;
		long v = strtol((const char *)code, &end, 10);
		if (end && *end == '\0' && v >= 1000 && v <= 2999)
			out->code = (int)v;
		xmlFree(code);
	}
	if (!out->code)
		goto out;
	text_of(child(result, "msg"), out->msg, sizeof(out->msg));
	xmlNodePtr trid = child(resp, "trID");
	text_of(child(trid, "clTRID"), out->cltrid, sizeof(out->cltrid));
	text_of(child(trid, "svTRID"), out->svtrid, sizeof(out->svtrid));
	r = 0;
out:
	xmlFreeDoc(doc);
	return r;
}

static bool is_in(xmlNodePtr n, const char *uri, const char *name)
{
	return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
	       strcmp((const char *)n->ns->href, uri) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* The first descendant element uri:name of n (depth-first). */
static xmlNodePtr find(xmlNodePtr n, const char *uri, const char *name, int depth)
{
	for (xmlNodePtr c = n ? n->children : NULL; c && depth < 16; c = c->next) {
		if (is_in(c, uri, name))
			return c;
		xmlNodePtr f = find(c, uri, name, depth + 1);
		if (f)
			return f;
	}
	return NULL;
}

static void text_in(xmlNodePtr n, const char *uri, const char *name, char *out, size_t len)
{
	xmlNodePtr c = NULL;
	for (c = n ? n->children : NULL; c && !is_in(c, uri, name); c = c->next)
		;
	text_of(c, out, len);
}

static int info_add(char (*list)[CDS_EPP_INFO_TEXT], size_t *n, const char *text)
{
	if (*n >= CDS_EPP_INFO_MAX)
		return CDS_ERANGE;
	snprintf(list[(*n)++], CDS_EPP_INFO_TEXT, "%s", text);
	return 0;
}

/* domain:status elements of a domain:infData: their s attribute. */
static void info_statuses(xmlNodePtr dinf, struct cds_epp_info *out)
{
	for (xmlNodePtr c = dinf ? dinf->children : NULL; c; c = c->next) {
		if (!is_in(c, NS_DOMAIN, "status") || out->nstatus >= CDS_EPP_STATUS_MAX)
			continue;
		xmlChar *s = xmlGetProp(c, BAD_CAST "s");
		if (s)
			snprintf(out->status[out->nstatus++], CDS_EPP_STATUS_TEXT, "%s",
				 (const char *)s);
		xmlFree(s);
	}
}

bool cds_epp_info_update_prohibited(const struct cds_epp_info *info, char *which, size_t len)
{
	size_t o = 0;
	if (len)
		which[0] = '\0';
	for (size_t i = 0; i < info->nstatus; i++) {
		if (strcmp(info->status[i], "clientUpdateProhibited") != 0 &&
		    strcmp(info->status[i], "serverUpdateProhibited") != 0)
			continue;
		if (o < len)
			o += (size_t)snprintf(which + o, len - o, "%s%s", o ? ", " : "",
					      info->status[i]);
		else
			o++;
	}
	return o > 0;
}

int cds_epp_parse_info(const char *buf, size_t len, struct cds_epp_info *out)
{
	memset(out, 0, sizeof(*out));
	xmlDocPtr doc = read_untrusted(buf, len, "epp-info.xml");
	if (!doc)
		return CDS_EDATA;
	int r = CDS_EDATA;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr resd = child(child(root, "response"), "resData");
	if (!is_epp(root, "epp") || !resd)
		goto out;
	r = 0;
	char t[CDS_EPP_INFO_TEXT];
	/* domain:infData: name servers (hostObj or hostAttr names). */
	xmlNodePtr dinf = find(resd, NS_DOMAIN, "infData", 0);
	xmlNodePtr nsn = dinf ? find(dinf, NS_DOMAIN, "ns", 0) : NULL;
	for (xmlNodePtr c = nsn ? nsn->children : NULL; c && r == 0; c = c->next) {
		if (is_in(c, NS_DOMAIN, "hostObj")) {
			text_of(c, t, sizeof(t));
		} else if (is_in(c, NS_DOMAIN, "hostAttr")) {
			text_in(c, NS_DOMAIN, "hostName", t, sizeof(t));
		} else {
			continue;
		}
		r = info_add(out->ns, &out->nns, t);
	}
	out->domain = dinf != NULL;
	info_statuses(dinf, out);
	/* host:infData: addresses. */
	xmlNodePtr hinf = find(resd, NS_HOST, "infData", 0);
	for (xmlNodePtr c = hinf ? hinf->children : NULL; c && r == 0; c = c->next)
		if (is_in(c, NS_HOST, "addr")) {
			text_of(c, t, sizeof(t));
			r = info_add(out->addrs, &out->naddrs, t);
		}
	out->host = hinf != NULL;
	/* secDNS:infData (in the extension): DS and keys. */
	xmlNodePtr ext = child(child(root, "response"), "extension");
	xmlNodePtr sinf = ext ? find(ext, NS_SECDNS, "infData", 0) : NULL;
	for (xmlNodePtr c = sinf ? sinf->children : NULL; c && r == 0; c = c->next) {
		char a[16], b[16], cc[16], d[CDS_EPP_INFO_TEXT - 64];
		if (is_in(c, NS_SECDNS, "dsData")) {
			text_in(c, NS_SECDNS, "keyTag", a, sizeof(a));
			text_in(c, NS_SECDNS, "alg", b, sizeof(b));
			text_in(c, NS_SECDNS, "digestType", cc, sizeof(cc));
			text_in(c, NS_SECDNS, "digest", d, sizeof(d));
			struct cds_ds ds;
			char txt[CDS_DS_TEXT_MAX];
			snprintf(t, sizeof(t), "%s %s %s %s", a, b, cc, d);
			if (cds_ds_parse(t, &ds) == 0) {
				cds_ds_format(&ds, txt);
				r = info_add(out->ds, &out->nds, txt);
			}
		} else if (is_in(c, NS_SECDNS, "keyData")) {
			text_in(c, NS_SECDNS, "flags", a, sizeof(a));
			text_in(c, NS_SECDNS, "protocol", b, sizeof(b));
			text_in(c, NS_SECDNS, "alg", cc, sizeof(cc));
			text_in(c, NS_SECDNS, "pubKey", d, sizeof(d));
			snprintf(t, sizeof(t), "%s %s %s %s", a, b, cc, d);
			r = info_add(out->keys, &out->nkeys, t);
		}
	}
out:
	xmlFreeDoc(doc);
	return r;
}
