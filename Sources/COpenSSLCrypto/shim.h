// The system's OpenSSL libcrypto, used for one thing: the RSA private-key operation behind RS256
// signatures, where it is about twice as fast as the portable BoringSSL build in swift-crypto.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
