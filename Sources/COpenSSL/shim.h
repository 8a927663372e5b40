// OpenSSL from Debian (libssl-dev): TLS for DNS over TLS and HTTPS. C only; no logic.
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
