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

int cds_epp_ds_update(const struct cds_epp_ds_change *c, char **xml, size_t *len)
{
	char name[CDS_DNAME_BUFSIZE];
	int r = CDS_ENOMEM;

	/* EPP domain names carry no trailing dot (RFC 5731 §2.1). */
	snprintf(name, sizeof(name), "%s", c->domain);
	size_t nl = strlen(name);
	if (nl > 1 && name[nl - 1] == '.')
		name[nl - 1] = '\0';

	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr epp = doc ? xmlNewNode(NULL, BAD_CAST "epp") : NULL;
	if (!epp)
		goto out;
	xmlNsPtr ns_epp = xmlNewNs(epp, BAD_CAST NS_EPP, NULL);
	xmlSetNs(epp, ns_epp);
	xmlDocSetRootElement(doc, epp);
	xmlNodePtr cmd = xmlNewChild(epp, ns_epp, BAD_CAST "command", NULL);
	xmlNodePtr upd = xmlNewChild(cmd, ns_epp, BAD_CAST "update", NULL);
	xmlNodePtr dupd = xmlNewChild(upd, NULL, BAD_CAST "update", NULL);
	xmlNsPtr ns_dom = xmlNewNs(dupd, BAD_CAST NS_DOMAIN, BAD_CAST "domain");
	xmlSetNs(dupd, ns_dom);
	xmlNewTextChild(dupd, ns_dom, BAD_CAST "name", BAD_CAST name);

	xmlNodePtr ext = xmlNewChild(cmd, ns_epp, BAD_CAST "extension", NULL);
	xmlNodePtr supd = xmlNewChild(ext, NULL, BAD_CAST "update", NULL);
	xmlNsPtr ns_sec = xmlNewNs(supd, BAD_CAST NS_SECDNS, BAD_CAST "secDNS");
	xmlSetNs(supd, ns_sec);
	/* RFC 5910 §5: rem before add. */
	if (c->remove_all) {
		xmlNodePtr rem = xmlNewChild(supd, ns_sec, BAD_CAST "rem", NULL);
		xmlNewTextChild(rem, ns_sec, BAD_CAST "all", BAD_CAST "true");
	} else if (c->nrem) {
		xmlNodePtr rem = xmlNewChild(supd, ns_sec, BAD_CAST "rem", NULL);
		for (size_t i = 0; i < c->nrem; i++)
			if ((r = add_ds_data(rem, ns_sec, c->rem[i])) != 0)
				goto out;
	}
	if (c->nadd) {
		xmlNodePtr add = xmlNewChild(supd, ns_sec, BAD_CAST "add", NULL);
		for (size_t i = 0; i < c->nadd; i++)
			if ((r = add_ds_data(add, ns_sec, c->add[i])) != 0)
				goto out;
	}
	xmlNewTextChild(cmd, ns_epp, BAD_CAST "clTRID", BAD_CAST c->cltrid);

	xmlChar *mem = NULL;
	int size = 0;
	xmlDocDumpFormatMemoryEnc(doc, &mem, &size, "UTF-8", 1);
	if (!mem)
		goto out;
	*xml = malloc((size_t)size + 1);
	if (*xml) {
		memcpy(*xml, mem, (size_t)size);
		(*xml)[size] = '\0';
		*len = (size_t)size;
		r = 0;
	}
	xmlFree(mem);
out:
	xmlFreeDoc(doc);
	return r;
}

int cds_epp_spool_write(const char *dir, const char *domain, int64_t id, const char *xml,
			size_t len, char *err, size_t errlen)
{
	char name[CDS_DNAME_BUFSIZE], path[4096], tmp[4096];
	snprintf(name, sizeof(name), "%s", domain);
	size_t nl = strlen(name);
	if (nl > 1 && name[nl - 1] == '.')
		name[nl - 1] = '\0';
	snprintf(path, sizeof(path), "%s/%s-%lld.xml", dir, name, (long long)id);
	snprintf(tmp, sizeof(tmp), "%s/.%s-%lld.xml.tmp", dir, name, (long long)id);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, xml + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			goto fail;
		}
		off += (size_t)n;
	}
	/* Durable before it becomes visible, and the rename durable too. */
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0)
		goto fail;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		if (dfd >= 0)
			close(dfd);
		goto fail;
	}
	close(dfd);
	return 0;
fail:;
	int e = errno;
	unlink(tmp);
	snprintf(err, errlen, "spool %s: %s", path, strerror(e));
	return -e;
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

int cds_epp_parse_response(const char *buf, size_t len, struct cds_epp_response *out)
{
	memset(out, 0, sizeof(*out));
	if (len > INT32_MAX)
		return CDS_EDATA;
	/* No network, no entity expansion, no DTD: the peer is not trusted. */
	xmlDocPtr doc = xmlReadMemory(buf, (int)len, "epp-response.xml", NULL,
				      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return CDS_EDATA;
	int r = CDS_EDATA;
	/* EPP never carries a DTD; one with entities could expand without
	 * bound when the text is read ("billion laughs"): refuse it. */
	if (doc->intSubset || doc->extSubset)
		goto out;
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
