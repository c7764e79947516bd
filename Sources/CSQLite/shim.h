#include <sqlite3.h>

/// Process-wide SQLite settings, applied before the first connection opens (sqlite3_config is
/// variadic, which Swift cannot call). Memory statistics off: with them on, every allocation and
/// free inside SQLite takes a global mutex to count bytes nobody reads (the worker's statements
/// free a few thousand times per slice). Returns SQLITE_MISUSE, harmlessly, when SQLite was
/// already initialized.
static inline int refit_sqlite3_configure_process(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
