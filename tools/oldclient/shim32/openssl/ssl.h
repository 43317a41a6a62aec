/* The 32-bit heap runner (heap32-build.sh) has no 32-bit OpenSSL (Debian's
 * libssl-dev is amd64 only here): the fake SDK's internal header needs only
 * the SSL type's name; its TLS part is replaced by notls32.c. */
#ifndef OLDCLIENT_SHIM32_SSL_H
#define OLDCLIENT_SHIM32_SSL_H
typedef struct ssl_st SSL;
#endif
