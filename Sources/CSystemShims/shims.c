#define _GNU_SOURCE
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <zlib.h>
#include <pthread.h>
#include "CSystemShims.h"

_Static_assert(sizeof(struct evq_mmsghdr) == sizeof(struct mmsghdr), "mmsghdr layout");

int evq_recvmmsg(int fd, struct evq_mmsghdr *vec, unsigned int vlen, int flags, struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)vec, vlen, flags, timeout);
}
int evq_sendmmsg(int fd, struct evq_mmsghdr *vec, unsigned int vlen, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)vec, vlen, flags);
}
const char *evq_strerror(int code, char *buffer, size_t length) { return strerror_r(code, buffer, length); }
size_t evq_udp_segment_control_space(void) { return CMSG_SPACE(sizeof(uint16_t)); }
size_t evq_udp_segment_control(void *control, unsigned short segment_size) {
    struct msghdr header = {.msg_control = control, .msg_controllen = CMSG_SPACE(sizeof(uint16_t))};
    struct cmsghdr *message = CMSG_FIRSTHDR(&header);
    message->cmsg_level = SOL_UDP;
    message->cmsg_type = UDP_SEGMENT;
    message->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    uint16_t size = segment_size;
    memcpy(CMSG_DATA(message), &size, sizeof size);
    return header.msg_controllen;
}
int evq_udp_segment_supported(int fd) {
    int size = 0;
    return setsockopt(fd, SOL_UDP, UDP_SEGMENT, &size, sizeof size) == 0 ? 0 : errno;
}
int evq_udp_gro_enable(int fd) {
    int on = 1;
    return setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0 ? 0 : errno;
}
size_t evq_udp_gro_control_space(void) { return CMSG_SPACE(sizeof(int)); }
int evq_udp_gro_segment_size(const struct msghdr *message) {
    for (struct cmsghdr *control = CMSG_FIRSTHDR(message); control; control = CMSG_NXTHDR((struct msghdr *)message, control)) {
        if (control->cmsg_level == SOL_UDP && control->cmsg_type == UDP_GRO) {
            int size;
            memcpy(&size, CMSG_DATA(control), sizeof size);
            return size;
        }
    }
    return 0;
}
void *evq_memmem(const void *h, size_t hl, const void *n, size_t nl) { return memmem(h, hl, n, nl); }
void *evq_memrchr(const void *s, int c, size_t n) { return memrchr(s, c, n); }
int evq_msg_waitforone(void) { return MSG_WAITFORONE; }
int evq_eventfd_nonblocking(unsigned int initval) { return eventfd(initval, EFD_NONBLOCK | EFD_CLOEXEC); }
int evq_inotify_init_nonblocking(void) { return inotify_init1(IN_NONBLOCK | IN_CLOEXEC); }
int evq_set_current_thread_name(const char *name) { return pthread_setname_np(pthread_self(), name); }
int evq_epoll_watching_readable(int fd) {
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) return -1;
    struct epoll_event event = { .events = EPOLLIN, .data.fd = fd };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event) != 0) { close(epfd); return -1; }
    return epfd;
}
int evq_epoll_wait_one(int epfd, int timeout_ms) {
    struct epoll_event event;
    return epoll_wait(epfd, &event, 1, timeout_ms);
}
int evq_zlib_compress(unsigned char *dst, unsigned long *dst_len, const unsigned char *src, unsigned long src_len) {
    return compress2(dst, dst_len, src, src_len, Z_DEFAULT_COMPRESSION);
}
unsigned long evq_zlib_compress_bound(unsigned long src_len) { return compressBound(src_len); }
int evq_zlib_uncompress(unsigned char *dst, unsigned long *dst_len, const unsigned char *src, unsigned long src_len) {
    return uncompress2(dst, dst_len, src, &src_len);
}
#include <sys/random.h>
ssize_t evq_getrandom(void *buf, size_t len) { return getrandom(buf, len, 0); }
int evq_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }
int evq_epoll_add_readable(int epfd, int fd, unsigned int token) {
    struct epoll_event event = { .events = EPOLLIN, .data.u32 = token };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}
int evq_epoll_add_edge(int epfd, int fd, unsigned int token) {
    struct epoll_event event = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.u32 = token };
    return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &event);
}
int evq_epoll_wait_tokens(int epfd, unsigned int *tokens, int max, int timeout_ms) {
    struct epoll_event events[64];
    int count = epoll_wait(epfd, events, max < 64 ? max : 64, timeout_ms);
    for (int index = 0; index < count; index++) tokens[index] = events[index].data.u32;
    return count;
}
