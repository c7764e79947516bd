/*
 * sqlcapture.so: records every SQL statement a process runs through libsqlite3, with its bound
 * values, so that sqlreplay can run the same statements again without the process around them.
 * Loaded with LD_PRELOAD; writes to the file named by REFIT_FLOOR_CAPTURE (one per process, the
 * pid appended). Nothing in refit knows about it: it wraps sqlite3_open_v2 to install a statement
 * trace, and the bind and clear functions to remember the values bound to each statement.
 *
 * Format, one record per line, fields separated by tabs:
 *   Q <id> <hex of the SQL text>                      the first time a text is seen
 *   S <connection> <id> <value>...                    a statement starting to run
 * with values i<integer>, r<real>, t<hex text>, b<hex blob>, z<zeroblob length>, n (NULL).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct { char type; sqlite3_int64 i; double r; unsigned char *bytes; int length; } Value;
typedef struct Bound { sqlite3_stmt *stmt; int count; Value *values; struct Bound *next; } Bound;
typedef struct Text { char *sql; int id; struct Text *next; } Text;

#define BUCKETS 4096
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static Bound *bound[BUCKETS];
static Text *texts[BUCKETS];
static int nextText;
static sqlite3 *connections[64];
static int connectionCount;
static FILE *out;

static unsigned long hashPointer(const void *p) { return ((unsigned long)p >> 4) % BUCKETS; }
static unsigned long hashText(const char *s) { unsigned long h = 5381; while (*s) h = h * 33 + (unsigned char)*s++; return h % BUCKETS; }

static Bound *entry(sqlite3_stmt *stmt, int create) {
    Bound **slot = &bound[hashPointer(stmt)];
    for (Bound *b = *slot; b; b = b->next) if (b->stmt == stmt) return b;
    if (!create) return NULL;
    Bound *b = calloc(1, sizeof *b);
    b->stmt = stmt; b->next = *slot; *slot = b;
    return b;
}

static void clearValues(Bound *b) {
    for (int i = 0; i < b->count; i++) free(b->values[i].bytes);
    free(b->values); b->values = NULL; b->count = 0;
}

static void remember(sqlite3_stmt *stmt, int index, Value value) {
    if (index < 1) return;
    pthread_mutex_lock(&lock);
    Bound *b = entry(stmt, 1);
    if (index > b->count) {
        b->values = realloc(b->values, sizeof(Value) * index);
        for (int i = b->count; i < index; i++) b->values[i] = (Value){ .type = 'n' };
        b->count = index;
    }
    free(b->values[index - 1].bytes);
    b->values[index - 1] = value;
    pthread_mutex_unlock(&lock);
}

static Value copyBytes(char type, const void *bytes, sqlite3_int64 length) {
    Value v = { .type = type };
    if (bytes == NULL) { v.type = 'n'; return v; }
    if (length < 0) length = (sqlite3_int64)strlen(bytes);
    v.bytes = malloc(length + 1); memcpy(v.bytes, bytes, length); v.length = (int)length;
    return v;
}

static void writeHex(const unsigned char *bytes, int length) {
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < length; i++) { fputc(digits[bytes[i] >> 4], out); fputc(digits[bytes[i] & 15], out); }
}

static int traced(unsigned type, void *context, void *p, void *x) {
    (void)type; (void)context;
    sqlite3_stmt *stmt = p;
    const char *sql = sqlite3_sql(stmt);
    /* Statements inside triggers come as "-- ..." comments: they run as part of their statement. */
    if (sql == NULL || strcmp(sql, (const char *)x) != 0) return 0;
    pthread_mutex_lock(&lock);
    if (out == NULL) {
        char path[4096];
        snprintf(path, sizeof path, "%s.%d", getenv("REFIT_FLOOR_CAPTURE"), (int)getpid());
        out = fopen(path, "w");
    }
    if (out != NULL) {
        Text **slot = &texts[hashText(sql)], *t;
        for (t = *slot; t; t = t->next) if (strcmp(t->sql, sql) == 0) break;
        if (t == NULL) {
            t = calloc(1, sizeof *t); t->sql = strdup(sql); t->id = nextText++; t->next = *slot; *slot = t;
            fprintf(out, "Q\t%d\t", t->id); writeHex((const unsigned char *)sql, (int)strlen(sql)); fputc('\n', out);
        }
        sqlite3 *db = sqlite3_db_handle(stmt);
        int connection = -1;
        for (int i = 0; i < connectionCount; i++) if (connections[i] == db) connection = i;
        fprintf(out, "S\t%d\t%d", connection, t->id);
        Bound *b = entry(stmt, 0);
        int parameters = sqlite3_bind_parameter_count(stmt);
        for (int i = 0; i < parameters; i++) {
            Value v = (b && i < b->count) ? b->values[i] : (Value){ .type = 'n' };
            fputc('\t', out); fputc(v.type, out);
            switch (v.type) {
            case 'i': fprintf(out, "%lld", (long long)v.i); break;
            case 'r': fprintf(out, "%.17g", v.r); break;
            case 'z': fprintf(out, "%d", v.length); break;
            case 't': case 'b': writeHex(v.bytes, v.length); break;
            default: break;
            }
        }
        fputc('\n', out);
        fflush(out);
    }
    pthread_mutex_unlock(&lock);
    return 0;
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int sqlite3_open_v2(const char *path, sqlite3 **db, int flags, const char *vfs) {
    REAL(sqlite3_open_v2);
    int result = real_sqlite3_open_v2(path, db, flags, vfs);
    if (result == SQLITE_OK && *db && getenv("REFIT_FLOOR_CAPTURE")) {
        pthread_mutex_lock(&lock);
        if (connectionCount < 64) connections[connectionCount++] = *db;
        pthread_mutex_unlock(&lock);
        sqlite3_trace_v2(*db, SQLITE_TRACE_STMT, traced, NULL);
    }
    return result;
}

int sqlite3_bind_int64(sqlite3_stmt *s, int i, sqlite3_int64 v) {
    REAL(sqlite3_bind_int64);
    remember(s, i, (Value){ .type = 'i', .i = v });
    return real_sqlite3_bind_int64(s, i, v);
}
int sqlite3_bind_int(sqlite3_stmt *s, int i, int v) {
    REAL(sqlite3_bind_int);
    remember(s, i, (Value){ .type = 'i', .i = v });
    return real_sqlite3_bind_int(s, i, v);
}
int sqlite3_bind_double(sqlite3_stmt *s, int i, double v) {
    REAL(sqlite3_bind_double);
    remember(s, i, (Value){ .type = 'r', .r = v });
    return real_sqlite3_bind_double(s, i, v);
}
int sqlite3_bind_null(sqlite3_stmt *s, int i) {
    REAL(sqlite3_bind_null);
    remember(s, i, (Value){ .type = 'n' });
    return real_sqlite3_bind_null(s, i);
}
int sqlite3_bind_zeroblob(sqlite3_stmt *s, int i, int n) {
    REAL(sqlite3_bind_zeroblob);
    remember(s, i, (Value){ .type = 'z', .length = n });
    return real_sqlite3_bind_zeroblob(s, i, n);
}
int sqlite3_bind_text(sqlite3_stmt *s, int i, const char *v, int n, void (*d)(void *)) {
    REAL(sqlite3_bind_text);
    remember(s, i, copyBytes('t', v, n));
    return real_sqlite3_bind_text(s, i, v, n, d);
}
int sqlite3_bind_text64(sqlite3_stmt *s, int i, const char *v, sqlite3_uint64 n, void (*d)(void *), unsigned char e) {
    REAL(sqlite3_bind_text64);
    remember(s, i, copyBytes('t', v, (sqlite3_int64)n));
    return real_sqlite3_bind_text64(s, i, v, n, d, e);
}
int sqlite3_bind_blob(sqlite3_stmt *s, int i, const void *v, int n, void (*d)(void *)) {
    REAL(sqlite3_bind_blob);
    remember(s, i, copyBytes('b', v, n));
    return real_sqlite3_bind_blob(s, i, v, n, d);
}
int sqlite3_bind_blob64(sqlite3_stmt *s, int i, const void *v, sqlite3_uint64 n, void (*d)(void *)) {
    REAL(sqlite3_bind_blob64);
    remember(s, i, copyBytes('b', v, (sqlite3_int64)n));
    return real_sqlite3_bind_blob64(s, i, v, n, d);
}
static void forget(sqlite3_stmt *stmt) {
    pthread_mutex_lock(&lock);
    Bound *b = entry(stmt, 0);
    if (b) clearValues(b);
    pthread_mutex_unlock(&lock);
}
int sqlite3_clear_bindings(sqlite3_stmt *s) {
    REAL(sqlite3_clear_bindings);
    forget(s);
    return real_sqlite3_clear_bindings(s);
}
int sqlite3_finalize(sqlite3_stmt *s) {
    REAL(sqlite3_finalize);
    forget(s);
    return real_sqlite3_finalize(s);
}
