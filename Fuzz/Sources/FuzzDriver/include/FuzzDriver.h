#ifndef REFIT_FUZZ_DRIVER_H
#define REFIT_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry for programs that keep their own `main` (SwiftPM gives every executable
/// one): parses libFuzzer's flags from argv and runs the fuzzing loop with `callback`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
