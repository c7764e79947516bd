#include "LazyLibrary.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static void open_library(refit_lazy_library *library) {
    void *handle = dlopen(library->soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        snprintf(library->error, sizeof library->error, "%s could not be loaded (%s); install Debian's %s package",
                 library->displayName, reason ? reason : library->soname, library->package);
        return;
    }
    for (size_t index = 0; index < library->symbolCount; index++) {
        void *symbol = dlsym(handle, library->symbols[index].name);
        if (!symbol) {
            snprintf(library->error, sizeof library->error, "%s (%s) has no function %s; it is older than Refit needs",
                     library->displayName, library->soname, library->symbols[index].name);
            return;
        }
        *library->symbols[index].slot = symbol;
    }
    library->loaded = 1;
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

const char *refit_lazy_library_load(refit_lazy_library *library) {
    pthread_mutex_lock(&lock);
    if (!library->tried) {
        library->tried = 1;
        open_library(library);
    }
    pthread_mutex_unlock(&lock);
    /* Set once, before the unlock above, and never changed after. */
    return library->loaded ? NULL : library->error;
}
