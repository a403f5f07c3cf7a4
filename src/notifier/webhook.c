/* The webhook channel: an HTTP POST of the notice as JSON (libcurl),
 * signed with HMAC-SHA256 (OpenSSL) over "TIMESTAMP.BODY", so that the
 * receiver can check where it came from and refuse a replayed one. */
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cdscan/error.h"
#include "notifier_internal.h"

int cds_notifier_signature(const char *key, size_t keylen, const char *timestamp,
			   const char *body, size_t bodylen, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t tlen = strlen(timestamp);
	unsigned char *msg = malloc(tlen + 1 + bodylen + 1);
	if (!msg || outlen < 7 + 2 * 32 + 1) {
		free(msg);
		return CDS_EINTERNAL;
	}
	memcpy(msg, timestamp, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, body, bodylen);
	unsigned char *r = HMAC(EVP_sha256(), key, (int)keylen, msg, tlen + 1 + bodylen, md, &mdlen);
	free(msg);
	if (!r)
		return CDS_EINTERNAL;
	size_t o = (size_t)snprintf(out, outlen, "sha256=");
	for (unsigned i = 0; i < mdlen && o + 2 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%02x", md[i]);
	return 0;
}

/* The secret: the first line of secret-file, or secret-env's value.  Read
 * for each delivery (a rotated key needs no reload); never logged.  A
 * secret missing is retried (CDS_EUNAVAIL): an operator may be putting it
 * in place. */
static int read_secret(const struct cds_channel *ch, char *out, size_t outlen, char *err,
		       size_t errlen)
{
	if (ch->secret_env) {
		const char *v = getenv(ch->secret_env);
		if (!v || !*v) {
			snprintf(err, errlen, "environment variable %s is not set", ch->secret_env);
			return CDS_EUNAVAIL;
		}
		snprintf(out, outlen, "%s", v);
		return 0;
	}
	FILE *f = fopen(ch->secret_file, "re");
	if (!f || !fgets(out, (int)outlen, f)) {
		snprintf(err, errlen, "cannot read the secret from %s", ch->secret_file);
		if (f)
			fclose(f);
		return CDS_EUNAVAIL;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	if (!*out) {
		snprintf(err, errlen, "%s: the secret's first line is empty", ch->secret_file);
		return CDS_EUNAVAIL;
	}
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The response body is not read: its status is the answer. */
static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

int webhook_deliver(const struct cds_channel *ch, const char *event, int64_t notice_id,
		    const char *body, size_t len, char *err, size_t errlen)
{
	char secret[1024], sig[128], ts[32], h[4][200];
	struct curl_slist *hdr = NULL;
	long status = 0;
	int r = read_secret(ch, secret, sizeof(secret), err, errlen);
	if (r != 0)
		return r;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	r = cds_notifier_signature(secret, strlen(secret), ts, body, len, sig, sizeof(sig));
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r != 0) {
		snprintf(err, errlen, "HMAC failed");
		return r;
	}
	pthread_once(&curl_once, curl_init);
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "libcurl: cannot make a handle");
		return CDS_ENOMEM;
	}
	snprintf(h[0], sizeof(h[0]), "X-Cdscan-Event: %s", event);
	snprintf(h[1], sizeof(h[1]), "X-Cdscan-Notice: %lld", (long long)notice_id);
	snprintf(h[2], sizeof(h[2]), "X-Cdscan-Timestamp: %s", ts);
	snprintf(h[3], sizeof(h[3]), "X-Cdscan-Signature: %s", sig);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	for (int i = 0; i < 4; i++)
		hdr = curl_slist_append(hdr, h[i]);
	hdr = curl_slist_append(hdr, "Expect:");
	curl_easy_setopt(c, CURLOPT_URL, ch->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)ch->timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "cdscan");
	CURLcode cr = curl_easy_perform(c);
	if (cr == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (cr != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(cr));
		return CDS_EUNAVAIL;
	}
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "HTTP status %ld", status);
		return CDS_EUNAVAIL;
	}
	return 0;
}
