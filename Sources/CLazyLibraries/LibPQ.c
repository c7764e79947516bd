#include "CLazyLibraries.h"
#include "LazyLibrary.h"

#define PQ_FUNCTIONS(F, V)                                                                              \
    F(PGconn *, PQconnectdb, (const char *conninfo), (conninfo))                                       \
    F(PGconn *, PQconnectdbParams, (const char *const *keywords, const char *const *values, int expandDbname), \
      (keywords, values, expandDbname))                                                                \
    F(ConnStatusType, PQstatus, (const PGconn *conn), (conn))                                          \
    V(PQfinish, (PGconn * conn), (conn))                                                               \
    V(PQreset, (PGconn * conn), (conn))                                                                \
    F(char *, PQerrorMessage, (const PGconn *conn), (conn))                                            \
    F(int, PQbackendPID, (const PGconn *conn), (conn))                                                 \
    F(PQnoticeProcessor, PQsetNoticeProcessor, (PGconn * conn, PQnoticeProcessor processor, void *argument), \
      (conn, processor, argument))                                                                     \
    F(PGresult *, PQexec, (PGconn * conn, const char *query), (conn, query))                           \
    F(PGresult *, PQexecParams,                                                                        \
      (PGconn * conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, \
       const int *paramLengths, const int *paramFormats, int resultFormat),                            \
      (conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat))     \
    F(ExecStatusType, PQresultStatus, (const PGresult *result), (result))                              \
    F(char *, PQresultErrorMessage, (const PGresult *result), (result))                                \
    F(char *, PQresultErrorField, (const PGresult *result, int fieldcode), (result, fieldcode))        \
    F(int, PQntuples, (const PGresult *result), (result))                                              \
    F(int, PQnfields, (const PGresult *result), (result))                                              \
    F(char *, PQfname, (const PGresult *result, int column), (result, column))                         \
    F(char *, PQgetvalue, (const PGresult *result, int row, int column), (result, row, column))        \
    F(int, PQgetisnull, (const PGresult *result, int row, int column), (result, row, column))          \
    F(char *, PQcmdStatus, (PGresult * result), (result))                                              \
    F(char *, PQcmdTuples, (PGresult * result), (result))                                              \
    V(PQclear, (PGresult * result), (result))                                                          \
    F(int, PQconsumeInput, (PGconn * conn), (conn))                                                    \
    F(PGnotify *, PQnotifies, (PGconn * conn), (conn))                                                 \
    V(PQfreemem, (void *pointer), (pointer))

PQ_FUNCTIONS(REFIT_LAZY_SLOT, REFIT_LAZY_VOID_SLOT)

static const refit_lazy_symbol symbols[] = {PQ_FUNCTIONS(REFIT_LAZY_ENTRY, REFIT_LAZY_VOID_ENTRY)};

static refit_lazy_library library = {
    .displayName = "libpq", .soname = "libpq.so.5", .package = "libpq5",
    .symbols = symbols, .symbolCount = sizeof symbols / sizeof symbols[0],
};

const char *refit_pq_load(void) { return refit_lazy_library_load(&library); }

PQ_FUNCTIONS(REFIT_LAZY_WRAPPER, REFIT_LAZY_VOID_WRAPPER)
