import FuzzDriver
#if canImport(Glibc)
import Glibc
#endif

// SwiftPM gives an executable its own `main`, so libFuzzer's is not linked: run its driver here.
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    guard let data else { return 0 }
    return fuzzOneInput(data, size)
})
