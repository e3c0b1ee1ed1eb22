#include "CGatewayOpenSSL.h"

// MARK: SSL_CTX

long CGatewayOpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}

long CGatewayOpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_max_proto_version(ctx, version);
}

long CGatewayOpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

long CGatewayOpenSSL_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_session_cache_mode(ctx, mode);
}

long CGatewayOpenSSL_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *)) {
    return SSL_CTX_set_tlsext_servername_callback(ctx, callback);
}

void *CGatewayOpenSSL_SSL_CTX_get_app_data(const SSL_CTX *ctx) {
    return SSL_CTX_get_app_data(ctx);
}

int CGatewayOpenSSL_SSL_CTX_set_app_data(SSL_CTX *ctx, void *data) {
    return SSL_CTX_set_app_data(ctx, data);
}

uint64_t CGatewayOpenSSL_SSL_OP_NO_RENEGOTIATION(void) { return SSL_OP_NO_RENEGOTIATION; }
uint64_t CGatewayOpenSSL_SSL_OP_NO_COMPRESSION(void) { return SSL_OP_NO_COMPRESSION; }
uint64_t CGatewayOpenSSL_SSL_OP_CIPHER_SERVER_PREFERENCE(void) { return SSL_OP_CIPHER_SERVER_PREFERENCE; }
uint64_t CGatewayOpenSSL_SSL_OP_NO_TICKET(void) { return SSL_OP_NO_TICKET; }

// MARK: SSL

long CGatewayOpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

long CGatewayOpenSSL_SSL_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}

long CGatewayOpenSSL_SSL_clear_mode(SSL *ssl, long mode) {
    return SSL_clear_mode(ssl, mode);
}

// MARK: BIO

size_t CGatewayOpenSSL_BIO_pending(BIO *bio) {
    return BIO_pending(bio);
}

void CGatewayOpenSSL_BIO_set_retry_read(BIO *bio) {
    BIO_set_retry_read(bio);
}

void CGatewayOpenSSL_BIO_clear_retry_flags(BIO *bio) {
    BIO_clear_retry_flags(bio);
}

// MARK: Keys and certificates

EVP_PKEY *CGatewayOpenSSL_EVP_EC_gen(const char *curve) {
    return EVP_EC_gen(curve);
}

void CGatewayOpenSSL_X509V3_set_ctx_nodb(X509V3_CTX *ctx) {
    X509V3_set_ctx_nodb(ctx);
}

unsigned long CGatewayOpenSSL_XN_FLAG_RFC2253(void) { return XN_FLAG_RFC2253; }
int CGatewayOpenSSL_MBSTRING_ASC(void) { return MBSTRING_ASC; }

// MARK: Keys built from parameters (JWKS)

int CGatewayOpenSSL_EVP_PKEY_PUBLIC_KEY(void) { return EVP_PKEY_PUBLIC_KEY; }
