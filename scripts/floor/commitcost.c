/*
 * commitcost: what one SQLite commit costs in CPU for the number of pages it writes, with the
 * worker's settings (WAL, synchronous=NORMAL, a 512 KiB page cache, 4 KiB pages). Each of
 * PAGES tables of 2,000 rows gets one row updated per transaction, so each commit appends
 * PAGES + 0..1 frames to the log.
 *
 *   commitcost DATABASE PAGES [TRANSACTIONS]
 *
 * Prints one JSON object: CPU per transaction, and the COMMIT's share of it.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double processCPU(void) {
    struct timespec t; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: commitcost DATABASE PAGES [TRANSACTIONS]\n"); return 2; }
    int pages = atoi(argv[2]), transactions = argc > 3 ? atoi(argv[3]) : 4000;
    if (pages < 1 || pages > 64) { fprintf(stderr, "commitcost: PAGES must be 1 to 64\n"); return 2; }
    sqlite3 *db;
    if (sqlite3_open(argv[1], &db) != SQLITE_OK) { fprintf(stderr, "commitcost: cannot open %s\n", argv[1]); return 1; }
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-512;", 0, 0, 0);
    sqlite3_wal_autocheckpoint(db, 16000);
    char sql[512];
    for (int t = 0; t < pages; t++) {
        snprintf(sql, sizeof sql,
                 "CREATE TABLE t%d (id INTEGER PRIMARY KEY, v INTEGER, pad TEXT);"
                 "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)"
                 " INSERT INTO t%d SELECT x, 0, hex(randomblob(100)) FROM c;", t, t);
        if (sqlite3_exec(db, sql, 0, 0, 0) != SQLITE_OK) { fprintf(stderr, "commitcost: %s\n", sqlite3_errmsg(db)); return 1; }
    }
    sqlite3_stmt *begin, *commit, *update[64];
    sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, 0);
    sqlite3_prepare_v2(db, "COMMIT", -1, &commit, 0);
    for (int t = 0; t < pages; t++) {
        snprintf(sql, sizeof sql, "UPDATE t%d SET v = v + 1 WHERE id = ?", t);
        sqlite3_prepare_v2(db, sql, -1, &update[t], 0);
    }
    double commitCPU = 0, start = processCPU();
    for (int i = 0; i < transactions; i++) {
        sqlite3_step(begin); sqlite3_reset(begin);
        for (int t = 0; t < pages; t++) {
            sqlite3_bind_int(update[t], 1, 1 + (i * 37) % 2000);
            sqlite3_step(update[t]); sqlite3_reset(update[t]);
        }
        double before = processCPU();
        if (sqlite3_step(commit) != SQLITE_DONE) { fprintf(stderr, "commitcost: %s\n", sqlite3_errmsg(db)); return 1; }
        sqlite3_reset(commit);
        commitCPU += processCPU() - before;
    }
    double total = processCPU() - start;
    printf("{\"pages\": %d, \"transactions\": %d, \"us_per_transaction\": %.2f, \"us_per_commit\": %.2f}\n",
           pages, transactions, total * 1e6 / transactions, commitCPU * 1e6 / transactions);
    sqlite3_close(db);
    return 0;
}
