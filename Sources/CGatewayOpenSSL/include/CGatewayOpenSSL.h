#ifndef C_GATEWAY_OPENSSL_H
#define C_GATEWAY_OPENSSL_H

#include <stdint.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

// Functions for OpenSSL macros, which Swift cannot call or import. Each one only
// forwards to the macro of the same name; no logic lives here.

// MARK: SSL_CTX
long CGatewayOpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
long CGatewayOpenSSL_SSL_CTX_set_max_proto_version(SSL_CTX *ctx, int version);
long CGatewayOpenSSL_SSL_CTX_set_mode(SSL_CTX *ctx, long mode);
long CGatewayOpenSSL_SSL_CTX_set_session_cache_mode(SSL_CTX *ctx, long mode);
long CGatewayOpenSSL_SSL_CTX_set_tlsext_servername_callback(SSL_CTX *ctx, int (*callback)(SSL *, int *, void *));
void *CGatewayOpenSSL_SSL_CTX_get_app_data(const SSL_CTX *ctx);
int CGatewayOpenSSL_SSL_CTX_set_app_data(SSL_CTX *ctx, void *data);

// SSL_OP_* are built from a function-like macro (SSL_OP_BIT), which Swift does not import.
uint64_t CGatewayOpenSSL_SSL_OP_NO_RENEGOTIATION(void);
uint64_t CGatewayOpenSSL_SSL_OP_NO_COMPRESSION(void);
uint64_t CGatewayOpenSSL_SSL_OP_CIPHER_SERVER_PREFERENCE(void);
uint64_t CGatewayOpenSSL_SSL_OP_NO_TICKET(void);

// MARK: SSL
long CGatewayOpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name);
long CGatewayOpenSSL_SSL_set_mode(SSL *ssl, long mode);
long CGatewayOpenSSL_SSL_clear_mode(SSL *ssl, long mode);

// MARK: BIO
size_t CGatewayOpenSSL_BIO_pending(BIO *bio);
void CGatewayOpenSSL_BIO_set_retry_read(BIO *bio);
void CGatewayOpenSSL_BIO_clear_retry_flags(BIO *bio);

// MARK: Keys and certificates
EVP_PKEY *CGatewayOpenSSL_EVP_EC_gen(const char *curve);
void CGatewayOpenSSL_X509V3_set_ctx_nodb(X509V3_CTX *ctx);
unsigned long CGatewayOpenSSL_XN_FLAG_RFC2253(void);
int CGatewayOpenSSL_MBSTRING_ASC(void);

// MARK: Keys built from parameters (JWKS)
int CGatewayOpenSSL_EVP_PKEY_PUBLIC_KEY(void);

#endif
