// libnghttp2 from Debian (libnghttp2-dev): HTTP/2 framing for DNS over HTTPS. C only; no logic.
#include <nghttp2/nghttp2.h>
