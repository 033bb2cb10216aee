/* libcurl's file name on macOS (curl_dl.h). */
#include "uplink/curl_dl.h"

const char curl_dl_name[] = "libcurl.4.dylib";
