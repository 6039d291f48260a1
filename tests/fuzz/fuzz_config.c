/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the config file parser: any bytes must give
 * either a configuration or one "NAME:LINE: what" error, never a crash or
 * a leak. Includes are off (no file I/O); mime_types and user lookups may
 * touch the system but only read.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tw_config c;
	char err[8192];
	int r;

	if (tw_config_init(&c) < 0)
		return 0;
	err[0] = '\0';
	r = tw_config_load_buf(&c, "fuzz.conf", (const char *)data, size, false,
			       err, sizeof(err));
	if (r < 0) {
		/* Every error names the file and a line. */
		if (strncmp(err, "fuzz.conf:", 10) != 0)
			abort();
	} else {
		/* A configuration that parsed prints without trouble. */
		FILE *out = fopen("/dev/null", "w");

		if (out != NULL) {
			tw_config_print(&c, out);
			fclose(out);
		}
	}
	tw_config_free(&c);
	return 0;
}
