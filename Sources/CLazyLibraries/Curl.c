#include "CLazyLibraries.h"
#include "LazyLibrary.h"

#define CURL_FUNCTIONS(F, V)                                                                             \
    F(CURLcode, curl_global_init, (long flags), (flags))                                                \
    F(CURL *, curl_easy_init, (void), ())                                                               \
    V(curl_easy_cleanup, (CURL * handle), (handle))                                                     \
    F(const char *, curl_easy_strerror, (CURLcode code), (code))                                        \
    F(struct curl_slist *, curl_slist_append, (struct curl_slist * list, const char *line), (list, line)) \
    V(curl_slist_free_all, (struct curl_slist * list), (list))                                          \
    F(CURLM *, curl_multi_init, (void), ())                                                             \
    F(CURLMcode, curl_multi_add_handle, (CURLM * multi, CURL *handle), (multi, handle))                 \
    F(CURLMcode, curl_multi_remove_handle, (CURLM * multi, CURL *handle), (multi, handle))              \
    F(CURLMcode, curl_multi_perform, (CURLM * multi, int *running), (multi, running))                   \
    F(CURLMsg *, curl_multi_info_read, (CURLM * multi, int *queued), (multi, queued))                   \
    F(CURLMcode, curl_multi_poll,                                                                       \
      (CURLM * multi, struct curl_waitfd extra[], unsigned int count, int timeoutMilliseconds, int *ready), \
      (multi, extra, count, timeoutMilliseconds, ready))                                                \
    F(CURLMcode, curl_multi_wakeup, (CURLM * multi), (multi))                                           \
    F(CURLMcode, curl_multi_cleanup, (CURLM * multi), (multi))

CURL_FUNCTIONS(REFIT_LAZY_SLOT, REFIT_LAZY_VOID_SLOT)
/* The variadic ones, reached only through the typed wrappers below. */
static CURLcode (*p_curl_easy_setopt)(CURL *, CURLoption, ...);
static CURLcode (*p_curl_easy_getinfo)(CURL *, CURLINFO, ...);
static CURLMcode (*p_curl_multi_setopt)(CURLM *, CURLMoption, ...);

static const refit_lazy_symbol symbols[] = {
    CURL_FUNCTIONS(REFIT_LAZY_ENTRY, REFIT_LAZY_VOID_ENTRY)
    {"curl_easy_setopt", (void **)&p_curl_easy_setopt},
    {"curl_easy_getinfo", (void **)&p_curl_easy_getinfo},
    {"curl_multi_setopt", (void **)&p_curl_multi_setopt},
};

static refit_lazy_library library = {
    .displayName = "libcurl", .soname = "libcurl.so.4", .package = "libcurl4",
    .symbols = symbols, .symbolCount = sizeof symbols / sizeof symbols[0],
};

const char *refit_curl_load(void) { return refit_lazy_library_load(&library); }

CURL_FUNCTIONS(REFIT_LAZY_WRAPPER, REFIT_LAZY_VOID_WRAPPER)

CURLcode refit_curl_setopt_long(CURL *handle, CURLoption option, long value) {
    return p_curl_easy_setopt(handle, option, value);
}
CURLcode refit_curl_setopt_off(CURL *handle, CURLoption option, curl_off_t value) {
    return p_curl_easy_setopt(handle, option, value);
}
CURLcode refit_curl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return p_curl_easy_setopt(handle, option, value);
}
CURLcode refit_curl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return p_curl_easy_setopt(handle, option, value);
}
CURLcode refit_curl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return p_curl_easy_setopt(handle, option, value);
}
CURLcode refit_curl_setopt_write_function(CURL *handle, CURLoption option,
                                          size_t (*callback)(char *, size_t, size_t, void *)) {
    return p_curl_easy_setopt(handle, option, callback);
}
CURLcode refit_curl_setopt_xferinfo_function(CURL *handle,
                                             int (*callback)(void *, curl_off_t, curl_off_t, curl_off_t, curl_off_t)) {
    return p_curl_easy_setopt(handle, CURLOPT_XFERINFOFUNCTION, callback);
}
CURLcode refit_curl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return p_curl_easy_getinfo(handle, info, value);
}
CURLcode refit_curl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return p_curl_easy_getinfo(handle, info, value);
}
CURLcode refit_curl_getinfo_off(CURL *handle, CURLINFO info, curl_off_t *value) {
    return p_curl_easy_getinfo(handle, info, value);
}
CURLcode refit_curl_getinfo_string(CURL *handle, CURLINFO info, char **value) {
    return p_curl_easy_getinfo(handle, info, value);
}
CURLMcode refit_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return p_curl_multi_setopt(multi, option, value);
}
