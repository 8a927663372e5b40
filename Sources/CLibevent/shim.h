// The libevent headers evquery uses. The libc headers come first: event2/event-config.h
// defines _GNU_SOURCE, and headers parsed after it would clash with Glibc's module.
#ifndef EVQUERY_CLIBEVENT_SHIM_H
#define EVQUERY_CLIBEVENT_SHIM_H
#include <sys/types.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netdb.h>
#include <stdint.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/dns.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#endif
