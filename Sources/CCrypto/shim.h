/* The low-level SHA-256 functions are deprecated in OpenSSL 3 but kept, and they are why this
 * shim exists: see crpc_sha256. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <openssl/hmac.h>

/* SHA-256 straight from the implementation. SHA256() and EVP_Digest fetch the algorithm through
 * OpenSSL 3's providers on first use, which reads the configuration and cost a cold start about
 * 6 million instructions and 23 system calls: a third of starting signed in with an API token
 * (whose secret's digest is the first thing a token start computes). */
static inline void crpc_sha256(const void *data, size_t count, unsigned char out[32]) {
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, count);
    SHA256_Final(out, &c);
}
