#ifndef REFIT_CLAZYLIBRARIES_H
#define REFIT_CLAZYLIBRARIES_H
/*
 * libcurl, libpq and libxml2, opened on first use instead of at process start.
 *
 * Linking either library at start made every `refit` command load about thirty shared
 * libraries (TLS, Kerberos, LDAP, SSH, IDN…) before `main`, whether or not it ever made an
 * HTTP request or opened a PostgreSQL store: about 5 ms and 450 page faults per command.
 * Here each library is opened with dlopen the first time a `refit_*_load` function is called,
 * and every function the Swift code uses is reached through a pointer resolved then.
 *
 * libxml2 (with ICU, lzma and zlib behind it) reads only the S3 and Azure Blob listings, yet
 * Foundation's XMLParser linked it into every process: about 0.5 ms and 3.5 MiB of resident
 * memory at start.
 *
 * Contract: call `refit_curl_load()` (or `refit_pq_load()`, `refit_xml_load()`) and check it
 * returned NULL before any other `refit_curl_*` (or `refit_PQ*`, `refit_xml*`) function. A non-NULL result is one sentence
 * saying why the library could not be opened; it is the same on every call.
 */
#include <curl/curl.h>
#include <postgresql/libpq-fe.h>

/* ---- libcurl (libcurl.so.4) ---- */

const char *refit_curl_load(void);

CURLcode refit_curl_global_init(long flags);
CURL *refit_curl_easy_init(void);
void refit_curl_easy_cleanup(CURL *handle);
const char *refit_curl_easy_strerror(CURLcode code);
struct curl_slist *refit_curl_slist_append(struct curl_slist *list, const char *line);
void refit_curl_slist_free_all(struct curl_slist *list);
CURLM *refit_curl_multi_init(void);
CURLMcode refit_curl_multi_add_handle(CURLM *multi, CURL *handle);
CURLMcode refit_curl_multi_remove_handle(CURLM *multi, CURL *handle);
CURLMcode refit_curl_multi_perform(CURLM *multi, int *running);
CURLMsg *refit_curl_multi_info_read(CURLM *multi, int *queued);
CURLMcode refit_curl_multi_poll(CURLM *multi, struct curl_waitfd extra[], unsigned int count, int timeoutMilliseconds,
                                int *ready);
CURLMcode refit_curl_multi_wakeup(CURLM *multi);
CURLMcode refit_curl_multi_cleanup(CURLM *multi);

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

/* ---- libpq (libpq.so.5) ---- */

const char *refit_pq_load(void);

PGconn *refit_PQconnectdb(const char *conninfo);
PGconn *refit_PQconnectdbParams(const char *const *keywords, const char *const *values, int expandDbname);
ConnStatusType refit_PQstatus(const PGconn *conn);
void refit_PQfinish(PGconn *conn);
void refit_PQreset(PGconn *conn);
char *refit_PQerrorMessage(const PGconn *conn);
int refit_PQbackendPID(const PGconn *conn);
PQnoticeProcessor refit_PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor processor, void *argument);
PGresult *refit_PQexec(PGconn *conn, const char *query);
PGresult *refit_PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes,
                             const char *const *paramValues, const int *paramLengths, const int *paramFormats,
                             int resultFormat);
ExecStatusType refit_PQresultStatus(const PGresult *result);
char *refit_PQresultErrorMessage(const PGresult *result);
char *refit_PQresultErrorField(const PGresult *result, int fieldcode);
int refit_PQntuples(const PGresult *result);
int refit_PQnfields(const PGresult *result);
char *refit_PQfname(const PGresult *result, int column);
char *refit_PQgetvalue(const PGresult *result, int row, int column);
int refit_PQgetisnull(const PGresult *result, int row, int column);
char *refit_PQcmdStatus(PGresult *result);
char *refit_PQcmdTuples(PGresult *result);
void refit_PQclear(PGresult *result);
int refit_PQconsumeInput(PGconn *conn);
PGnotify *refit_PQnotifies(PGconn *conn);
void refit_PQfreemem(void *pointer);

/* ---- libxml2 (libxml2.so.2): its streaming reader, declared here (the ABI of libxml2.so.2) ---- */

typedef struct refit_xml_text_reader *refit_xml_reader;

/* libxml2's parser options used by Refit: no network access, no error or warning printing. */
enum { REFIT_XML_PARSE_NOERROR = 1 << 5, REFIT_XML_PARSE_NOWARNING = 1 << 6, REFIT_XML_PARSE_NONET = 1 << 11 };
/* xmlReaderTypes: the node types Refit reads. */
enum {
    REFIT_XML_ELEMENT = 1, REFIT_XML_TEXT = 3, REFIT_XML_CDATA = 4, REFIT_XML_WHITESPACE = 13,
    REFIT_XML_SIGNIFICANT_WHITESPACE = 14, REFIT_XML_END_ELEMENT = 15
};

const char *refit_xml_load(void);

void refit_xmlInitParser(void);
refit_xml_reader refit_xmlReaderForMemory(const char *buffer, int size, const char *url, const char *encoding, int options);
int refit_xmlTextReaderRead(refit_xml_reader reader);
int refit_xmlTextReaderNodeType(refit_xml_reader reader);
int refit_xmlTextReaderIsEmptyElement(refit_xml_reader reader);
const unsigned char *refit_xmlTextReaderConstLocalName(refit_xml_reader reader);
const unsigned char *refit_xmlTextReaderConstValue(refit_xml_reader reader);
void refit_xmlFreeTextReader(refit_xml_reader reader);

#endif
