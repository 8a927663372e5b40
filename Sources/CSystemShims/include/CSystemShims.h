// Linux calls that Swift's Glibc module hides because they need _GNU_SOURCE, wrapped once.
// No logic: each function forwards to the libc call of the same name without the prefix.
#ifndef EVQUERY_CSYSTEMSHIMS_H
#define EVQUERY_CSYSTEMSHIMS_H
#include <stddef.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <time.h>

/// Same layout as glibc's `struct mmsghdr`.
struct evq_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// `recvmmsg(2)`.
int evq_recvmmsg(int fd, struct evq_mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout);
/// `sendmmsg(2)`.
int evq_sendmmsg(int fd, struct evq_mmsghdr *vec, unsigned int vlen, int flags);
/// `memmem(3)`.
void *evq_memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
/// `memrchr(3)`.
void *evq_memrchr(const void *s, int c, size_t n);
/// `MSG_WAITFORONE`, for `recvmmsg`.
int evq_msg_waitforone(void);
#endif
