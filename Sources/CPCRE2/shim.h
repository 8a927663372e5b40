// PCRE2 from Debian (libpcre2-dev), its 8-bit library. C only; no logic: the API's names are
// macros over the code-unit width, so Swift calls the `_8` functions this width declares.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
