/* libcurl through dlopen (curl_dl.h). */
#include "uplink/curl_dl.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/util.h"

static struct curl_api api;
static bool loaded;

#define SYM(field, name)                   \
	{                                  \
		(void **)&api.field, #name \
	}

const struct curl_api *curl_api_load(char *err, size_t errlen)
{
	const struct {
		void **slot;
		const char *name;
	} syms[] = {
		SYM(global_init, curl_global_init),
		SYM(multi_init, curl_multi_init),
		SYM(multi_setopt, curl_multi_setopt),
		SYM(multi_cleanup, curl_multi_cleanup),
		SYM(multi_add_handle, curl_multi_add_handle),
		SYM(multi_remove_handle, curl_multi_remove_handle),
		SYM(multi_socket_action, curl_multi_socket_action),
		SYM(multi_assign, curl_multi_assign),
		SYM(multi_info_read, curl_multi_info_read),
		SYM(easy_init, curl_easy_init),
		SYM(easy_setopt, curl_easy_setopt),
		SYM(easy_getinfo, curl_easy_getinfo),
		SYM(easy_cleanup, curl_easy_cleanup),
		SYM(easy_strerror, curl_easy_strerror),
	};
	void *lib;

	if (loaded)
		return &api;
	lib = dlopen(curl_dl_name, RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		snprintf(err, errlen, "cannot load %s (libcurl, for the endpoint update): %s",
			 curl_dl_name, dlerror());
		return NULL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].slot = dlsym(lib, syms[i].name);
		if (!*syms[i].slot) {
			snprintf(err, errlen, "%s has no %s", curl_dl_name, syms[i].name);
			dlclose(lib);
			return NULL;
		}
	}
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "%s: curl_global_init failed", curl_dl_name);
		dlclose(lib);
		return NULL;
	}
	loaded = true; /* the library stays: curl_global_cleanup is never safe to call late */
	return &api;
}
