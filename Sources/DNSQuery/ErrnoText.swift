#if canImport(Glibc)
import Glibc
#endif

/// An errno in words as the library prints it: `Connection refused (errno 111)`.
///
/// glibc's `strerror` (2.32 and later) returns a constant string for a known code and a
/// thread-local buffer otherwise, so it is safe from any thread.
func errnoText(_ code: Int32) -> String {
    "\(String(cString: strerror(code))) (errno \(code))"
}
