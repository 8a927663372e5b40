// Linux calls that Swift's Glibc module hides because they need _GNU_SOURCE, wrapped once.
// No logic: each function forwards to the libc call of the same name without the prefix, except the
// SIGBUS guard (mapping_guard.c), the UDP_SEGMENT and UDP_GRO control messages and the prefetch hint below.
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
/// The control-message space of one `UDP_SEGMENT` option (`CMSG_SPACE(sizeof(uint16_t))`).
size_t evq_udp_segment_control_space(void);
/// Writes a `SOL_UDP`/`UDP_SEGMENT` control message asking the kernel to cut the message's payload
/// into datagrams of `segment_size` bytes (UDP GSO, Linux 4.18) into `control` (at least
/// `evq_udp_segment_control_space()` bytes); returns the `msg_controllen` to use. The CMSG macros
/// are not visible from Swift.
size_t evq_udp_segment_control(void *control, unsigned short segment_size);
/// `setsockopt(fd, SOL_UDP, UDP_SEGMENT, 0)`: 0 when the kernel knows UDP GSO (Linux 4.18), else
/// the errno (`ENOPROTOOPT`).
int evq_udp_segment_supported(int fd);
/// `setsockopt(fd, SOL_UDP, UDP_GRO, 1)`: the socket takes datagrams the kernel coalesced (UDP GRO,
/// Linux 5.0; a UDP GSO message over loopback arrives whole) as one buffer, with their size in a
/// control message. 0 on success, else the errno (`ENOPROTOOPT` on an older kernel).
int evq_udp_gro_enable(int fd);
/// The control-message space a receive needs for the `UDP_GRO` segment size (`CMSG_SPACE(sizeof(int))`).
size_t evq_udp_gro_control_space(void);
/// The segment size in a received message's `SOL_UDP`/`UDP_GRO` control message, or 0 when it has
/// none (the message is one datagram).
int evq_udp_gro_segment_size(const struct msghdr *message);
/// `strerror_r(3)` (the GNU form): the text for `code`, written into `buffer` when the C library
/// has no static text for it.
const char *evq_strerror(int code, char *buffer, size_t length);
/// `memmem(3)`.
void *evq_memmem(const void *haystack, size_t haystacklen, const void *needle, size_t needlelen);
/// `memrchr(3)`.
void *evq_memrchr(const void *s, int c, size_t n);
/// The bytes equal to `byte` among the `length` at `start` (AVX2 where the CPU has it, else SSE2).
size_t evq_count_byte(const void *start, size_t length, unsigned char byte);
/// `MSG_WAITFORONE`, for `recvmmsg`.
int evq_msg_waitforone(void);
/// `eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC)`.
int evq_eventfd_nonblocking(unsigned int initval);
/// `inotify_init1(IN_NONBLOCK | IN_CLOEXEC)`.
int evq_inotify_init_nonblocking(void);
/// `pthread_setname_np(pthread_self(), name)`; the name is cut to 15 bytes by the caller.
int evq_set_current_thread_name(const char *name);
/// `epoll_create1(EPOLL_CLOEXEC)` plus `epoll_ctl(ADD, fd, EPOLLIN)`: an epoll fd watching one fd
/// for readability (the raw wake-up floor the reactor benchmarks compare against). -1 on error.
int evq_epoll_watching_readable(int fd);
/// `epoll_wait(epfd, &one_event, 1, timeout_ms)`.
int evq_epoll_wait_one(int epfd, int timeout_ms);
/// zlib's `compress2(dst, dst_len, src, src_len, Z_DEFAULT_COMPRESSION)` (zlib format, as
/// HdrHistogram's compressed encoding expects). Returns zlib's status (0 = Z_OK).
int evq_zlib_compress(unsigned char *dst, unsigned long *dst_len, const unsigned char *src, unsigned long src_len);
/// zlib's `compressBound(src_len)`.
unsigned long evq_zlib_compress_bound(unsigned long src_len);
/// zlib's `uncompress2`: inflates zlib-format `src` into `dst` (`*dst_len` bytes; set to the length
/// written). Returns zlib's status (0 = Z_OK, -5 = Z_BUF_ERROR: `dst` too small, -3: bad data).
int evq_zlib_uncompress(unsigned char *dst, unsigned long *dst_len, const unsigned char *src, unsigned long src_len);
/// `getrandom(buf, len, 0)`: bytes from the kernel CSPRNG (DNS transaction ids).
ssize_t evq_getrandom(void *buf, size_t len);
/// `epoll_create1(EPOLL_CLOEXEC)`.
int evq_epoll_create(void);
/// `epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &{EPOLLIN, .data.u32 = token})`: watch `fd` for readability.
int evq_epoll_add_readable(int epfd, int fd, unsigned int token);
/// `epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &{EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = token})`:
/// watch a stream socket for any change, edge-triggered (read and write until `EAGAIN`).
int evq_epoll_add_edge(int epfd, int fd, unsigned int token);
/// `epoll_wait(epfd, events, max, timeout_ms)` (at most 64 events) with each ready event's
/// `data.u32` token written to `tokens` (so Swift never sees the packed `struct epoll_event`).
int evq_epoll_wait_tokens(int epfd, unsigned int *tokens, int max, int timeout_ms);
/// The SIGBUS guard for mapped file windows (mapping_guard.c, the one piece of logic in this target:
/// a signal handler must be async-signal-safe C). `evq_mapguard_register` installs the process-wide
/// handler on first use and records `base..<base+length`; a SIGBUS inside a recorded range gets a
/// page of zeros mapped over it (counted by `evq_mapguard_zero_fills`), any other SIGBUS goes to the
/// handler installed before. Returns the slot for `evq_mapguard_unregister`, or -1 when all
/// `evq_mapguard_slot_count()` slots are taken or the handler could not be installed.
int evq_mapguard_register(const void *base, size_t length);
/// Frees a slot of `evq_mapguard_register` (before its range is unmapped).
void evq_mapguard_unregister(int slot);
/// Whether `address` lies in a registered range.
int evq_mapguard_covers(const void *address);
/// Pages of zeros mapped so far over registered ranges.
long evq_mapguard_zero_fills(void);
/// How many ranges can be registered at once.
int evq_mapguard_slot_count(void);
/// `__builtin_prefetch(address, 1, 3)`: start loading the cache line at `address` for a write
/// (the DNS engine's next transaction-table entry). Inline: no call.
static inline void evq_prefetch_for_write(const void *address) { __builtin_prefetch(address, 1, 3); }
#endif
