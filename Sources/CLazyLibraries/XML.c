#include "CLazyLibraries.h"
#include "LazyLibrary.h"

#include <pthread.h>

#define XML_FUNCTIONS(F, V)                                                                              \
    V(xmlInitParser, (void), ())                                                                        \
    F(refit_xml_reader, xmlReaderForMemory,                                                             \
      (const char *buffer, int size, const char *url, const char *encoding, int options),              \
      (buffer, size, url, encoding, options))                                                          \
    F(int, xmlTextReaderRead, (refit_xml_reader reader), (reader))                                     \
    F(int, xmlTextReaderNodeType, (refit_xml_reader reader), (reader))                                 \
    F(int, xmlTextReaderIsEmptyElement, (refit_xml_reader reader), (reader))                           \
    F(const unsigned char *, xmlTextReaderConstLocalName, (refit_xml_reader reader), (reader))         \
    F(const unsigned char *, xmlTextReaderConstValue, (refit_xml_reader reader), (reader))             \
    V(xmlFreeTextReader, (refit_xml_reader reader), (reader))

XML_FUNCTIONS(REFIT_LAZY_SLOT, REFIT_LAZY_VOID_SLOT)

static const refit_lazy_symbol symbols[] = {XML_FUNCTIONS(REFIT_LAZY_ENTRY, REFIT_LAZY_VOID_ENTRY)};

static refit_lazy_library library = {
    .displayName = "libxml2", .soname = "libxml2.so.2", .package = "libxml2",
    .symbols = symbols, .symbolCount = sizeof symbols / sizeof symbols[0],
};

static pthread_once_t initialized = PTHREAD_ONCE_INIT;
/* libxml2 asks to be initialized once, before any thread parses. */
static void initialize(void) { p_xmlInitParser(); }

const char *refit_xml_load(void) {
    const char *error = refit_lazy_library_load(&library);
    if (!error) pthread_once(&initialized, initialize);
    return error;
}

XML_FUNCTIONS(REFIT_LAZY_WRAPPER, REFIT_LAZY_VOID_WRAPPER)
