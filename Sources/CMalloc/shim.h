// glibc's malloc tuning (mallopt), which Swift's Glibc module does not export. Header only: nothing
// to link. Elsewhere (no <malloc.h>) the module is empty.
#if __has_include(<malloc.h>)
#include <malloc.h>
#endif
