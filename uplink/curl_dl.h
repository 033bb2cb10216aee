/*
 * libcurl, loaded when first needed. Only the tunnel broker's endpoint
 * update (he_update.c) uses it, and linking it would load some thirty
 * libraries (TLS, Kerberos, LDAP, SSH, ...) into every mantad: about 7 MB
 * of resident memory on a node that never sends an update. So mantad is
 * built against libcurl's headers only, and the library is opened with
 * dlopen the first time an uplink with he_username & co comes up.
 */
#ifndef MANTA_UPLINK_CURL_DL_H
#define MANTA_UPLINK_CURL_DL_H

#include <curl/curl.h>
#include <stddef.h>

/* The functions he_update.c calls, with libcurl's own prototypes. */
struct curl_api {
	__typeof__(curl_global_init) *global_init;
	__typeof__(curl_multi_init) *multi_init;
	__typeof__(curl_multi_setopt) *multi_setopt;
	__typeof__(curl_multi_cleanup) *multi_cleanup;
	__typeof__(curl_multi_add_handle) *multi_add_handle;
	__typeof__(curl_multi_remove_handle) *multi_remove_handle;
	__typeof__(curl_multi_socket_action) *multi_socket_action;
	__typeof__(curl_multi_assign) *multi_assign;
	__typeof__(curl_multi_info_read) *multi_info_read;
	__typeof__(curl_easy_init) *easy_init;
	__typeof__(curl_easy_setopt) *easy_setopt;
	__typeof__(curl_easy_getinfo) *easy_getinfo;
	__typeof__(curl_easy_cleanup) *easy_cleanup;
	__typeof__(curl_easy_strerror) *easy_strerror;
};

/* libcurl, opened and initialised once (curl_global_init); NULL with the
 * reason in err (no library, a missing symbol, a failed init) otherwise.
 * A failure is not remembered: the next call tries again. */
const struct curl_api *curl_api_load(char *err, size_t errlen);

/* The platform's file name for libcurl (curl_dl_linux.c, _darwin.c). */
extern const char curl_dl_name[];

#endif
