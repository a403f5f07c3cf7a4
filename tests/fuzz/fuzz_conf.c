/* libFuzzer target: the YAML configuration loader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "cdscan/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cds_conf conf;
	struct cds_conf_error err;
	char msg[600];

	if (cds_conf_load_buffer((const char *)data, size, "fuzz.yaml", &conf, &err) == 0)
		cds_conf_deinit(&conf);
	else
		cds_conf_error_format(&err, msg, sizeof(msg));
	return 0;
}
