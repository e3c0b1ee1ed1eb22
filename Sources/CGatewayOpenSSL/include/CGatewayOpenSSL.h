#ifndef C_GATEWAY_OPENSSL_H
#define C_GATEWAY_OPENSSL_H
#include <openssl/ssl.h>
// Functions for OpenSSL macros, which Swift cannot call. Added as GatewayTLS needs them.
long CGatewayOpenSSL_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version);
#endif
