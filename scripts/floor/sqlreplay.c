/*
 * sqlreplay: runs again, in C, the statements sqlcapture.so recorded from a `refit run`, on a new
 * database file, and reports the CPU they take without refit around them: the floor of what the
 * worker's SQL costs through libsqlite3 on this machine.
 *
 *   sqlreplay CAPTURE DATABASE SLICES [TOP]
 *
 * With TOP > 0 every statement is timed (two clock reads of the thread's CPU, each a system call)
 * to rank the costliest TOP; with TOP = 0, the default, only the COMMITs are, so that the total
 * is not inflated by the timing.
 * Every statement is prepared once per connection and then bound, stepped to the end (text
 * columns read) and reset, as refit does. The capture has no checkpoints (refit checkpoints
 * through sqlite3_wal_checkpoint_v2, not through a statement), so the replay lets SQLite
 * checkpoint inline at refit's background threshold (16,000 pages). The file is read whole
 * before the clock starts. Prints one JSON object: CPU per slice in all and in COMMIT,
 * commits and WAL frames per slice, and the statements that took most CPU. A statement that fails
 * (as it did in refit, when refit expected it to: a trigger refusing a row) is counted in
 * "failed"; a statement that cannot be prepared makes the exit status 1.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

typedef struct { char type; sqlite3_int64 i; double r; unsigned char *bytes; int length; } Value;
typedef struct { int connection, id, count; Value *values; } Record;

static int hexDigit(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }
static unsigned char *unhex(const char *s, int *length) {
    int n = (int)strlen(s) / 2;
    unsigned char *bytes = malloc(n + 1);
    for (int i = 0; i < n; i++) bytes[i] = (unsigned char)(hexDigit(s[2 * i]) * 16 + hexDigit(s[2 * i + 1]));
    bytes[n] = 0; *length = n;
    return bytes;
}
static double processCPU(void) {
    struct rusage u; getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_utime.tv_usec / 1e6 + u.ru_stime.tv_sec + u.ru_stime.tv_usec / 1e6;
}
static double threadCPU(void) {
    struct timespec t; clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
static long frames, lastLogSize;
static int walHook(void *context, sqlite3 *db, const char *name, int logSize) {
    (void)context; (void)db; (void)name;
    frames += logSize >= lastLogSize ? logSize - lastLogSize : logSize;
    lastLogSize = logSize;
    return SQLITE_OK;
}
static void jsonString(const char *s, int limit) {
    putchar('"');
    for (int i = 0; s[i] && i < limit; i++) {
        char c = s[i];
        if (c == '"' || c == '\\') { putchar('\\'); putchar(c); }
        else if ((unsigned char)c < 32) putchar(' ');
        else putchar(c);
    }
    putchar('"');
}

enum { MAX_TEXTS = 100000, MAX_CONNECTIONS = 64 };

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: sqlreplay CAPTURE DATABASE SLICES [TOP]\n"); return 2; }
    FILE *in = fopen(argv[1], "r");
    if (in == NULL) { perror(argv[1]); return 2; }
    int slices = atoi(argv[3]), top = argc > 4 ? atoi(argv[4]) : 0;
    char **sql = calloc(MAX_TEXTS, sizeof *sql);
    size_t capacity = 1 << 16, count = 0;
    Record *records = malloc(capacity * sizeof *records);
    char *line = NULL; size_t lineCapacity = 0; ssize_t length;
    Value *scratch = malloc(sizeof(Value) * 1024);
    while ((length = getline(&line, &lineCapacity, in)) > 0) {
        if (line[length - 1] == '\n') line[length - 1] = 0;
        char *save = NULL, *field = strtok_r(line, "\t", &save);
        if (field == NULL) continue;
        if (field[0] == 'Q') {
            int id = atoi(strtok_r(NULL, "\t", &save)), n;
            char *text = strtok_r(NULL, "\t", &save);
            if (id >= 0 && id < MAX_TEXTS && text) sql[id] = (char *)unhex(text, &n);
            continue;
        }
        Record r = { 0 };
        r.connection = atoi(strtok_r(NULL, "\t", &save));
        r.id = atoi(strtok_r(NULL, "\t", &save));
        if (r.connection < 0 || r.connection >= MAX_CONNECTIONS || r.id < 0 || r.id >= MAX_TEXTS) continue;
        while ((field = strtok_r(NULL, "\t", &save)) && r.count < 1024) {
            Value v = { .type = field[0] };
            switch (field[0]) {
            case 'i': v.i = atoll(field + 1); break;
            case 'r': v.r = atof(field + 1); break;
            case 'z': v.length = atoi(field + 1); break;
            case 't': case 'b': v.bytes = unhex(field + 1, &v.length); break;
            default: v.type = 'n';
            }
            scratch[r.count++] = v;
        }
        r.values = malloc(sizeof(Value) * (r.count ? r.count : 1));
        memcpy(r.values, scratch, sizeof(Value) * r.count);
        if (count == capacity) records = realloc(records, (capacity *= 2) * sizeof *records);
        records[count++] = r;
    }
    fclose(in);

    sqlite3 *connections[MAX_CONNECTIONS] = { 0 };
    sqlite3_stmt **cache[MAX_CONNECTIONS] = { 0 };
    double *cpu = calloc(MAX_TEXTS, sizeof *cpu);
    long *runs = calloc(MAX_TEXTS, sizeof *runs), errors = 0, failed = 0, commits = 0;
    double commitCPU = 0, start = processCPU();
    for (size_t k = 0; k < count; k++) {
        Record *r = &records[k];
        if (sql[r->id] == NULL) continue;
        if (connections[r->connection] == NULL) {
            if (sqlite3_open_v2(argv[2], &connections[r->connection], SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
                fprintf(stderr, "sqlreplay: cannot open %s\n", argv[2]); return 1;
            }
            sqlite3_busy_timeout(connections[r->connection], 5000);
            sqlite3_wal_autocheckpoint(connections[r->connection], 16000);
            sqlite3_wal_hook(connections[r->connection], walHook, NULL);
            cache[r->connection] = calloc(MAX_TEXTS, sizeof(sqlite3_stmt *));
        }
        sqlite3 *db = connections[r->connection];
        sqlite3_stmt *statement = cache[r->connection][r->id];
        int isCommit = strncmp(sql[r->id], "COMMIT", 6) == 0, timed = top > 0 || isCommit;
        double before = timed ? threadCPU() : 0;
        if (statement == NULL) {
            if (sqlite3_prepare_v3(db, sql[r->id], -1, SQLITE_PREPARE_PERSISTENT, &statement, NULL) != SQLITE_OK) {
                if (errors++ < 5) fprintf(stderr, "sqlreplay: %s: %.120s\n", sqlite3_errmsg(db), sql[r->id]);
                continue;
            }
            cache[r->connection][r->id] = statement;
        }
        for (int j = 0; j < r->count; j++) {
            Value *v = &r->values[j];
            switch (v->type) {
            case 'i': sqlite3_bind_int64(statement, j + 1, v->i); break;
            case 'r': sqlite3_bind_double(statement, j + 1, v->r); break;
            case 'z': sqlite3_bind_zeroblob(statement, j + 1, v->length); break;
            case 't': sqlite3_bind_text(statement, j + 1, (const char *)v->bytes, v->length, SQLITE_STATIC); break;
            case 'b': sqlite3_bind_blob(statement, j + 1, v->bytes, v->length, SQLITE_STATIC); break;
            default: sqlite3_bind_null(statement, j + 1);
            }
        }
        int result;
        while ((result = sqlite3_step(statement)) == SQLITE_ROW) {
            for (int c = sqlite3_column_count(statement) - 1; c >= 0; c--)
                if (sqlite3_column_type(statement, c) == SQLITE_TEXT) sqlite3_column_text(statement, c);
        }
        if (result != SQLITE_DONE) failed++;
        sqlite3_reset(statement);
        sqlite3_clear_bindings(statement);
        double spent = timed ? threadCPU() - before : 0;
        cpu[r->id] += spent; runs[r->id]++;
        if (isCommit) { commits++; commitCPU += spent; }
    }
    double total = processCPU() - start;

    printf("{\"statements\": %zu, \"errors\": %ld, \"failed\": %ld, \"slices\": %d, \"cpu_s\": %.4f, \"cpu_ms_per_slice\": %.4f, "
           "\"commit_ms_per_slice\": %.4f, \"commits_per_slice\": %.2f, \"frames_per_slice\": %.1f, \"top\": [",
           count, errors, failed, slices, total, total * 1e3 / slices, commitCPU * 1e3 / slices,
           (double)commits / slices, (double)frames / slices);
    for (int t = 0; t < top; t++) {
        int best = -1;
        for (int i = 0; i < MAX_TEXTS; i++) if (runs[i] && (best < 0 || cpu[i] > cpu[best])) best = i;
        if (best < 0) break;
        printf("%s{\"us_per_slice\": %.1f, \"runs\": %ld, \"us_each\": %.2f, \"sql\": ", t ? ", " : "",
               cpu[best] * 1e6 / slices, runs[best], cpu[best] * 1e6 / runs[best]);
        jsonString(sql[best], 90);
        putchar('}');
        runs[best] = 0;
    }
    printf("]}\n");
    return errors ? 1 : 0;
}
