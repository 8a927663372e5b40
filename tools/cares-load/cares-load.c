/*
 * cares-load: a closed-loop DNS load on c-ares (Debian's libc-ares), a peer beside dnsperf and
 * evdns (docs/performance.md "Targets"). tools/compare-load.sh builds and runs it against the same server
 * and datafile as the others.
 *
 *   cares-load ADDRESS PORT DATAFILE OUTSTANDING SECONDS
 *
 * One channel, driven the way an event-loop user drives c-ares: its socket-state callback keeps an
 * epoll set, epoll_wait waits at most until ares_timeout, and ares_process_fd handles each ready
 * socket. OUTSTANDING queries are kept in flight; each completion starts the next one until SECONDS
 * have passed, then the rest drain. Each query asks once (tries 1, 5 s), with EDNS (1232 bytes) and
 * 4 MiB socket buffers, as evquery and dnsperf (-b 4096) run.
 *
 * Prints one line of key=value fields: qps (answers over the time to the last answer), cpu_per_million
 * (process CPU seconds during the run per million queries sent), p50_us and p99_us (latency of the
 * answered), and the counts; exits 1 if a query completed twice or not at all (the audit).
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>

/* Latency histogram: 1 us buckets below 65,536 us, then 1,024 us buckets up to about 67 s. */
#define FINE_BUCKETS 65536
#define BUCKETS (FINE_BUCKETS + 65536)

struct query { const char *name; int type; };
struct slot { uint64_t sent_at; int busy; };

static struct {
    ares_channel channel;
    int epoll_fd;
    struct query *queries;
    size_t query_count, next_query;
    uint64_t deadline, started_at, last_answer_at;
    long sent, completed, answered, nxdomain, timeouts, errors, double_completions, in_flight;
    uint32_t *histogram;
} run;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void record_latency(uint64_t nanos) {
    uint64_t micros = nanos / 1000;
    size_t bucket = micros < FINE_BUCKETS ? micros : FINE_BUCKETS + (micros - FINE_BUCKETS) / 1024;
    if (bucket >= BUCKETS) bucket = BUCKETS - 1;
    run.histogram[bucket]++;
}

static double percentile_us(double fraction) {
    long total = 0;
    for (size_t i = 0; i < BUCKETS; i++) total += run.histogram[i];
    if (total == 0) return 0;
    long rank = (long)(fraction * total + 0.5), seen = 0;
    if (rank < 1) rank = 1;
    for (size_t i = 0; i < BUCKETS; i++) {
        seen += run.histogram[i];
        if (seen >= rank) return i < FINE_BUCKETS ? (double)i : FINE_BUCKETS + (double)(i - FINE_BUCKETS) * 1024;
    }
    return 0;
}

static void issue(struct slot *slot);

static void completed(void *arg, int status, int timeouts, unsigned char *answer, int length) {
    (void)timeouts, (void)answer, (void)length;
    struct slot *slot = arg;
    uint64_t now = now_ns();
    if (!slot->busy) {
        run.double_completions++;
        return;
    }
    slot->busy = 0;
    run.completed++;
    run.in_flight--;
    switch (status) {
    case ARES_SUCCESS:
        run.answered++;
        run.last_answer_at = now;
        record_latency(now - slot->sent_at);
        break;
    case ARES_ENOTFOUND:
        run.nxdomain++;
        run.last_answer_at = now;
        record_latency(now - slot->sent_at);
        break;
    case ARES_ETIMEOUT: run.timeouts++; break;
    default: run.errors++; break;
    }
    if (now < run.deadline && status != ARES_EDESTRUCTION) issue(slot);
}

static void issue(struct slot *slot) {
    struct query *query = &run.queries[run.next_query++ % run.query_count];
    slot->busy = 1;
    slot->sent_at = now_ns();
    run.sent++;
    run.in_flight++;
    ares_query(run.channel, query->name, ns_c_in, query->type, completed, slot);
}

/* c-ares tells which sockets to watch; the epoll set follows. */
static void socket_state(void *data, ares_socket_t fd, int readable, int writable) {
    (void)data;
    struct epoll_event event = {.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0), .data.fd = fd};
    if (!readable && !writable) {
        epoll_ctl(run.epoll_fd, EPOLL_CTL_DEL, fd, NULL);
    } else if (epoll_ctl(run.epoll_fd, EPOLL_CTL_MOD, fd, &event) != 0 && errno == ENOENT) {
        epoll_ctl(run.epoll_fd, EPOLL_CTL_ADD, fd, &event);
    }
}

static int type_number(const char *text) {
    static const struct { const char *name; int number; } known[] = {
        {"A", ns_t_a}, {"AAAA", ns_t_aaaa}, {"NS", ns_t_ns}, {"CNAME", ns_t_cname}, {"SOA", ns_t_soa},
        {"PTR", ns_t_ptr}, {"MX", ns_t_mx}, {"TXT", ns_t_txt}, {"SRV", ns_t_srv}, {"ANY", ns_t_any},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasecmp(text, known[i].name) == 0) return known[i].number;
    return -1;
}

/* The dnsperf datafile format: "name type" per line; blank lines and '#' comments skipped. */
static int load_datafile(const char *path) {
    FILE *file = fopen(path, "r");
    if (!file) {
        fprintf(stderr, "cares-load: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t capacity = 1024;
    run.queries = malloc(capacity * sizeof *run.queries);
    char line[1024];
    int number = 0;
    while (fgets(line, sizeof line, file)) {
        number++;
        char name[512], type[32];
        char *text = line + strspn(line, " \t");
        if (*text == '#' || *text == '\n' || *text == 0) continue;
        if (sscanf(text, "%511s %31s", name, type) != 2 || type_number(type) < 0) {
            fprintf(stderr, "cares-load: %s:%d: expected 'name type' (a known type)\n", path, number);
            fclose(file);
            return -1;
        }
        if (run.query_count == capacity) run.queries = realloc(run.queries, (capacity *= 2) * sizeof *run.queries);
        run.queries[run.query_count++] = (struct query){strdup(name), type_number(type)};
    }
    fclose(file);
    if (run.query_count == 0) {
        fprintf(stderr, "cares-load: %s: no queries\n", path);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: cares-load ADDRESS PORT DATAFILE OUTSTANDING SECONDS\n");
        return 2;
    }
    long outstanding = atol(argv[4]);
    double seconds = atof(argv[5]);
    if (outstanding < 1 || seconds <= 0) {
        fprintf(stderr, "cares-load: OUTSTANDING must be at least 1 and SECONDS above 0\n");
        return 2;
    }
    if (load_datafile(argv[3]) != 0) return 2;
    run.histogram = calloc(BUCKETS, sizeof *run.histogram);
    run.epoll_fd = epoll_create1(EPOLL_CLOEXEC);

    int status = ares_library_init(ARES_LIB_INIT_ALL);
    struct ares_options options = {
        .flags = ARES_FLAG_NOSEARCH | ARES_FLAG_EDNS | ARES_FLAG_STAYOPEN,
        .timeout = 5000,
        .tries = 1,
        .ednspsz = 1232,
        .socket_send_buffer_size = 4 << 20,
        .socket_receive_buffer_size = 4 << 20,
        .sock_state_cb = socket_state,
    };
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_EDNSPSZ | ARES_OPT_SOCK_SNDBUF |
               ARES_OPT_SOCK_RCVBUF | ARES_OPT_SOCK_STATE_CB;
    if (status == ARES_SUCCESS) status = ares_init_options(&run.channel, &options, mask);
    char server[128];
    snprintf(server, sizeof server, "%s:%s", argv[1], argv[2]);
    if (status == ARES_SUCCESS) status = ares_set_servers_ports_csv(run.channel, server);
    if (status != ARES_SUCCESS) {
        fprintf(stderr, "cares-load: c-ares setup: %s\n", ares_strerror(status));
        return 2;
    }

    struct slot *slots = calloc((size_t)outstanding, sizeof *slots);
    double cpu_before = cpu_seconds();
    run.started_at = now_ns();
    run.deadline = run.started_at + (uint64_t)(seconds * 1e9);
    for (long i = 0; i < outstanding; i++) issue(&slots[i]);
    struct epoll_event events[64];
    while (run.in_flight > 0) {
        struct timeval most = {.tv_sec = 0, .tv_usec = 100000}, wait;
        struct timeval *until = ares_timeout(run.channel, &most, &wait);
        int ready = epoll_wait(run.epoll_fd, events, 64, (int)(until->tv_sec * 1000 + until->tv_usec / 1000));
        if (ready < 0 && errno != EINTR) {
            fprintf(stderr, "cares-load: epoll_wait: %s\n", strerror(errno));
            break;
        }
        if (ready <= 0) ares_process_fd(run.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // timeouts
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            ares_process_fd(run.channel, events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) ? fd : ARES_SOCKET_BAD,
                            events[i].events & EPOLLOUT ? fd : ARES_SOCKET_BAD);
        }
    }
    double cpu = cpu_seconds() - cpu_before;
    ares_destroy(run.channel);  // nothing is in flight: no callback runs here
    ares_library_cleanup();

    uint64_t answering = (run.last_answer_at > run.started_at ? run.last_answer_at : now_ns()) - run.started_at;
    double qps = (run.answered + run.nxdomain) / (answering / 1e9);
    int audit_ok = run.sent == run.completed && run.double_completions == 0;
    printf("qps=%.0f cpu_per_million=%.3f p50_us=%.0f p99_us=%.0f sent=%ld completed=%ld answered=%ld nxdomain=%ld "
           "timeouts=%ld errors=%ld double_completions=%ld audit=%s\n",
           qps, run.sent ? cpu / run.sent * 1e6 : 0, percentile_us(0.50), percentile_us(0.99), run.sent,
           run.completed, run.answered, run.nxdomain, run.timeouts, run.errors, run.double_completions,
           audit_ok ? "ok" : "VIOLATED");
    return audit_ok ? 0 : 1;
}
