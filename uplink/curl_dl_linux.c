/* libcurl's file name on Linux (curl_dl.h). */
#include "uplink/curl_dl.h"

const char curl_dl_name[] = "libcurl.so.4";
