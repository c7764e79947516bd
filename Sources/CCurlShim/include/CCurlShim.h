#ifndef REFIT_CCURLSHIM_H
#define REFIT_CCURLSHIM_H
#include <curl/curl.h>

/* libcurl's setopt/getinfo are variadic, which Swift cannot call; these are typed wrappers. */
CURLcode refit_curl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode refit_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode refit_curl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode refit_curl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode refit_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode refit_curl_setopt_write_function(CURL *handle, CURLoption option,
                                          size_t (*callback)(char *, size_t, size_t, void *));
CURLcode refit_curl_setopt_xferinfo_function(CURL *handle,
                                             int (*callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t));
CURLcode refit_curl_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode refit_curl_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode refit_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode refit_curl_getinfo_string(CURL *handle, CURLINFO info, char **value);
CURLMcode refit_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

#endif
