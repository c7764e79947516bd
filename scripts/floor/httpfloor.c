/*
 * httpfloor: the client-side CPU of plain libcurl requests over one kept-alive loopback
 * connection, shaped like a slice's six exchanges with the Azure ML emulator in the chain benchmark: the
 * staging blob PUT, the job submit, the start, a status GET, the evaluation blob GET and the
 * endpoint PATCH. The emulator answers most of them with
 * an error (the paths name no real job); its answers are small either way, as its real ones are.
 *
 *   httpfloor BASE-URL SLICES
 *
 * Prints one JSON object: client CPU per request and per slice (six requests), wall per request.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clockSeconds(clockid_t id) {
    struct timespec t; clock_gettime(id, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
static size_t discard(char *data, size_t size, size_t count, void *context) {
    (void)data; (void)context;
    return size * count;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: httpfloor BASE-URL SLICES\n"); return 2; }
    const char *base = argv[1];
    int slices = atoi(argv[2]);
    static const char *methods[] = { "PUT", "POST", "POST", "GET", "GET", "PATCH" };
    static const char *paths[] = { "/floor/input.csv", "/workspaces/w/services/s/jobs", "/workspaces/w/services/s/jobs/j/start",
                                   "/workspaces/w/services/s/jobs/j", "/floor/evaluation.csv",
                                   "/workspaces/w/webservices/s/endpoints/e" };
    static const int bodies[] = { 1500, 1200, 2, 0, 0, 400 };
    enum { PER_SLICE = 6 };
    char body[2048], url[1024];
    memset(body, 'x', sizeof body);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Authorization: Bearer 0123456789abcdef0123456789abcdef");
    headers = curl_slist_append(headers, "Expect:");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    double cpu0 = clockSeconds(CLOCK_PROCESS_CPUTIME_ID), wall0 = clockSeconds(CLOCK_MONOTONIC);
    for (int i = 0; i < slices; i++) {
        for (int m = 0; m < PER_SLICE; m++) {
            snprintf(url, sizeof url, "%s%s?api-version=2.0&n=%d", base, paths[m], i);
            curl_easy_setopt(curl, CURLOPT_URL, url);
            if (bodies[m] > 0) {
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, methods[m]);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
                curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)bodies[m]);
            } else {
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, NULL);
                curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
            }
            CURLcode result = curl_easy_perform(curl);
            if (result != CURLE_OK) { fprintf(stderr, "httpfloor: %s\n", curl_easy_strerror(result)); return 1; }
        }
    }
    double cpu = clockSeconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0, wall = clockSeconds(CLOCK_MONOTONIC) - wall0;
    printf("{\"slices\": %d, \"requests\": %d, \"cpu_us_per_request\": %.2f, \"cpu_ms_per_slice\": %.4f, \"wall_us_per_request\": %.1f}\n",
           slices, slices * PER_SLICE, cpu * 1e6 / (slices * PER_SLICE), cpu * 1e3 / slices, wall * 1e6 / (slices * PER_SLICE));
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return 0;
}
