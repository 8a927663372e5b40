// The SIGBUS guard for mapped file windows (LogQuery's counts), in C because a signal handler must
// be async-signal-safe: this one reads C11 atomics and calls mmap(2), nothing else — no Swift
// runtime, no allocation, no lock. The one piece of logic in this target; everything else forwards.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>
#include "CSystemShims.h"

#define EVQ_MAPGUARD_SLOTS 64

static _Atomic uintptr_t guard_starts[EVQ_MAPGUARD_SLOTS];
static _Atomic uintptr_t guard_ends[EVQ_MAPGUARD_SLOTS];
static _Atomic long guard_zero_fills;
static uintptr_t guard_page_size;
static struct sigaction guard_previous;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;
static int guard_installed;

static int guard_covers(uintptr_t address) {
    for (int slot = 0; slot < EVQ_MAPGUARD_SLOTS; slot++) {
        uintptr_t start = atomic_load_explicit(&guard_starts[slot], memory_order_acquire);
        if (start == 0 || address < start) continue;
        if (address < atomic_load_explicit(&guard_ends[slot], memory_order_acquire)) return 1;
    }
    return 0;
}

// A fault that is not the guard's goes to the action installed before it; with none (or an ignored
// SIGBUS, which the kernel does not honour for a fault), the default action is restored so that the
// access faults again when the handler returns and the process stops as it would have.
static void guard_forward(int signal, siginfo_t *info, void *context) {
    if (guard_previous.sa_flags & SA_SIGINFO) {
        if (guard_previous.sa_sigaction) {
            guard_previous.sa_sigaction(signal, info, context);
            return;
        }
    } else if (guard_previous.sa_handler != SIG_DFL && guard_previous.sa_handler != SIG_IGN) {
        guard_previous.sa_handler(signal);
        return;
    }
    struct sigaction fallback = {0};
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(SIGBUS, &fallback, NULL);
}

static void guard_handle(int signal, siginfo_t *info, void *context) {
    if (info) {
        uintptr_t address = (uintptr_t)info->si_addr;
        if (guard_covers(address)) {
            void *page = (void *)(address & ~(guard_page_size - 1));
            void *zeros = mmap(page, guard_page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
            if (zeros != MAP_FAILED) {
                atomic_fetch_add_explicit(&guard_zero_fills, 1, memory_order_release);
                return;
            }
        }
    }
    guard_forward(signal, info, context);
}

static void guard_install(void) {
    long page = sysconf(_SC_PAGESIZE);
    if (page <= 0) return;
    guard_page_size = (uintptr_t)page;
    struct sigaction action = {0};
    action.sa_sigaction = guard_handle;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    guard_installed = sigaction(SIGBUS, &action, &guard_previous) == 0;
}

int evq_mapguard_slot_count(void) { return EVQ_MAPGUARD_SLOTS; }

int evq_mapguard_register(const void *base, size_t length) {
    pthread_once(&guard_once, guard_install);
    if (!guard_installed || base == NULL || length == 0) return -1;
    uintptr_t start = (uintptr_t)base;
    for (int slot = 0; slot < EVQ_MAPGUARD_SLOTS; slot++) {
        uintptr_t expected = 0;
        if (atomic_compare_exchange_strong_explicit(&guard_starts[slot], &expected, start, memory_order_acq_rel,
                                                    memory_order_acquire)) {
            atomic_store_explicit(&guard_ends[slot], start + length, memory_order_release);
            return slot;
        }
    }
    return -1;
}

void evq_mapguard_unregister(int slot) {
    if (slot < 0 || slot >= EVQ_MAPGUARD_SLOTS) return;
    atomic_store_explicit(&guard_ends[slot], 0, memory_order_release);
    atomic_store_explicit(&guard_starts[slot], 0, memory_order_release);
}

int evq_mapguard_covers(const void *address) { return guard_covers((uintptr_t)address); }

long evq_mapguard_zero_fills(void) { return atomic_load_explicit(&guard_zero_fills, memory_order_acquire); }
