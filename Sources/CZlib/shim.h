// zlib from Debian (zlib1g-dev). C only; no logic: inflateInit2 is a macro Swift cannot call.
#include <zlib.h>

/// `inflateInit2(stream, 15 + 32)`: a zlib or gzip stream, its header detected, 32 KiB window.
static inline int evq_inflate_init_gzip(z_stream *stream) { return inflateInit2(stream, 15 + 32); }
