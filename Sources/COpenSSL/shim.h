#ifndef TOKENCENTRAL_COPENSSL_SHIM_H
#define TOKENCENTRAL_COPENSSL_SHIM_H

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/socket.h>

/// Macros Swift cannot import.
static inline int copenssl_set_server_name_indication(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline int copenssl_require_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

/// `SSL_write` may be retried with the same bytes at another address (a Swift array can move).
static inline void copenssl_accept_moving_write_buffer(SSL *ssl) {
    SSL_set_mode(ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// Waits up to `timeout_ms` for `events` on `fd`. Returns >0 when ready (or hung up), 0 on timeout, <0 on error.
static inline int copenssl_wait(int fd, short events, int timeout_ms) {
    struct pollfd pfd = { .fd = fd, .events = events, .revents = 0 };
    return poll(&pfd, 1, timeout_ms);
}

// A socket BIO that writes with MSG_NOSIGNAL. OpenSSL's own socket BIO calls write(2), which raises
// SIGPIPE on a connection the server closed, and SIGPIPE's default action ends the process; a library
// must not change the process-wide signal disposition to avoid that, so its writes avoid the signal.

static inline int copenssl_bio_write(BIO *bio, const char *data, int length) {
    BIO_clear_retry_flags(bio);
    ssize_t written = send((int)(intptr_t)BIO_get_data(bio), data, (size_t)length, MSG_NOSIGNAL);
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return (int)written;
}

static inline int copenssl_bio_read(BIO *bio, char *data, int length) {
    BIO_clear_retry_flags(bio);
    ssize_t read = recv((int)(intptr_t)BIO_get_data(bio), data, (size_t)length, 0);
    if (read < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return (int)read;
}

static inline long copenssl_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

/// The one method table, created once (a function-local static: Swift's importer emits inline functions
/// it uses, not file-scope variables).
static inline BIO_METHOD **copenssl_bio_method_slot(void) {
    static BIO_METHOD *method = NULL;
    return &method;
}

static inline void copenssl_bio_method_create(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tokencentral socket");
    if (method == NULL) return;
    BIO_meth_set_write(method, copenssl_bio_write);
    BIO_meth_set_read(method, copenssl_bio_read);
    BIO_meth_set_ctrl(method, copenssl_bio_ctrl);
    *copenssl_bio_method_slot() = method;
}

/// A BIO over the connected socket `fd` (which the caller keeps and closes); NULL when out of memory.
static inline BIO *copenssl_socket_bio(int fd) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, copenssl_bio_method_create);
    BIO_METHOD *method = *copenssl_bio_method_slot();
    if (method == NULL) return NULL;
    BIO *bio = BIO_new(method);
    if (bio == NULL) return NULL;
    BIO_set_data(bio, (void *)(intptr_t)fd);
    BIO_set_init(bio, 1);
    return bio;
}

#endif
