#ifndef TOKENCENTRAL_CHIREDIS_SHIM_H
#define TOKENCENTRAL_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>
#include <poll.h>

/// `reply->element[index]`: Swift imports the `redisReply **` vector awkwardly.
static inline redisReply *chiredis_reply_element(const redisReply *reply, size_t index) {
    return reply->element[index];
}

/// `c->errstr` as a C string: Swift imports the fixed-size array as a tuple.
static inline const char *chiredis_errstr(const redisContext *c) {
    return c->errstr;
}

/// Waits up to `timeout_ms` for the context's socket to become readable.
/// Returns >0 when readable (data or EOF), 0 on timeout, <0 on error.
static inline int chiredis_wait_readable(const redisContext *c, int timeout_ms) {
    struct pollfd pfd = { .fd = c->fd, .events = POLLIN, .revents = 0 };
    return poll(&pfd, 1, timeout_ms);
}

#endif
