#ifndef REFIT_LAZYLIBRARY_H
#define REFIT_LAZYLIBRARY_H
/* The one loader behind CLazyLibraries' libraries (private to this target). */
#include <stddef.h>

typedef struct {
    const char *name;
    void **slot;
} refit_lazy_symbol;

typedef struct {
    const char *displayName;  /* "libcurl" */
    const char *soname;       /* "libcurl.so.4" */
    const char *package;      /* Debian's package of that file: "libcurl4" */
    const refit_lazy_symbol *symbols;
    size_t symbolCount;
    int tried;                /* under the loader's lock */
    int loaded;
    char error[512];
} refit_lazy_library;

/* Opens the library once (thread-safe) and resolves every symbol; NULL when all were found,
   else the one-sentence reason, kept in the library's `error`. */
const char *refit_lazy_library_load(refit_lazy_library *library);

/*
 * A library's X-macro list entries are F(ret, name, params, args) for functions returning a
 * value and V(name, params, args) for void ones. These expand a list into the pointer slots,
 * the symbol table and the `refit_` wrappers.
 */
#define REFIT_LAZY_SLOT(ret, name, params, args) static ret(*p_##name) params;
#define REFIT_LAZY_VOID_SLOT(name, params, args) static void(*p_##name) params;
#define REFIT_LAZY_ENTRY(ret, name, params, args) {#name, (void **)&p_##name},
#define REFIT_LAZY_VOID_ENTRY(name, params, args) {#name, (void **)&p_##name},
#define REFIT_LAZY_WRAPPER(ret, name, params, args) ret refit_##name params { return p_##name args; }
#define REFIT_LAZY_VOID_WRAPPER(name, params, args) void refit_##name params { p_##name args; }

#endif
