#!/usr/bin/env bash
#
# Generates the ECDSA P-256 test credentials of tlsx and writes them to certs.hpp (beside this
# script) as raw string literals in namespace tlsx_test::certs.
#
# Not run by the build: run it by hand when the credentials must change, check the result with
# the `openssl verify` calls at the end (they run every time), and commit certs.hpp.
#
#   test/support/make_certs.sh            # writes test/support/certs.hpp
#   test/support/make_certs.sh OUT.hpp    # writes OUT.hpp instead
#
# Needs the openssl command-line tool (written for OpenSSL 3.0). Certificates with fixed dates
# are issued with `openssl ca -startdate/-enddate`, since `openssl x509 -req` of 3.0 cannot set a
# start date. Every certificate but `expired` is valid until 2125-01-01.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="${1:-$here/certs.hpp}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"

password=secret
long_start=20250101000000Z  # leaf certificates: valid ~2025-01-01 ..
long_end=21250101000000Z    # .. 2125-01-01
ca_start=20240101000000Z    # CAs start a year earlier, so they cover every leaf but `expired`

# ---- openssl configuration: a minimal CA plus one extension section per certificate kind -------
cat >openssl.cnf <<'EOF'
[ ca ]
default_ca = test_ca

[ test_ca ]
dir              = .
database         = $dir/index.txt
new_certs_dir    = $dir/issued
serial           = $dir/serial
default_md       = sha256
policy           = policy_any
email_in_dn      = no
unique_subject   = no
preserve         = yes
copy_extensions  = none

[ policy_any ]
commonName = supplied

[ req ]
distinguished_name = req_dn
prompt             = no

[ req_dn ]
CN = unused

[ ca_ext ]
basicConstraints       = critical, CA:TRUE
keyUsage               = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier   = hash

[ localhost_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ other_host_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = DNS:other.example
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid

[ untrusted_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature, keyAgreement
extendedKeyUsage       = serverAuth, clientAuth
subjectAltName         = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier   = hash

[ client_ext ]
basicConstraints       = critical, CA:FALSE
keyUsage               = critical, digitalSignature
extendedKeyUsage       = clientAuth
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid
EOF

# Fresh CA state for each CA: database, serial and output directory.
reset_ca_db() {
    rm -rf index.txt index.txt.* serial serial.* issued
    : >index.txt
    openssl rand -hex 16 >serial
    mkdir issued
}

newkey() { # newkey NAME: an unencrypted PKCS#8 P-256 key in NAME.key
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"
}

# issue NAME CN EXTENSIONS START END [selfsign]: key NAME.key -> certificate NAME.pem, signed by
# the CA in ca_signer.{pem,key} (or by itself with "selfsign").
issue() {
    local name="$1" cn="$2" ext="$3" start="$4" end="$5" mode="${6:-}"
    openssl req -new -config openssl.cnf -key "$name.key" -subj "/CN=$cn" -out "$name.csr"
    if [[ "$mode" == selfsign ]]; then
        openssl ca -batch -config openssl.cnf -selfsign -keyfile "$name.key" -in "$name.csr" \
            -startdate "$start" -enddate "$end" -extensions "$ext" -notext -out "$name.pem" \
            2>/dev/null
    else
        openssl ca -batch -config openssl.cnf -cert ca_signer.pem -keyfile ca_signer.key \
            -in "$name.csr" -startdate "$start" -enddate "$end" -extensions "$ext" -notext \
            -out "$name.pem" 2>/dev/null
    fi
}

# ---- The test CA and the certificates it signs -------------------------------------------------
reset_ca_db
newkey ca
issue ca "tlsx test CA" ca_ext "$ca_start" "$long_end" selfsign
cp ca.pem ca_signer.pem
cp ca.key ca_signer.key

newkey server
issue server localhost localhost_ext "$long_start" "$long_end"

newkey expired
issue expired localhost localhost_ext 20200101000000Z 20210101000000Z

newkey other_host
issue other_host other.example other_host_ext "$long_start" "$long_end"

newkey client
issue client "tlsx test client" client_ext "$long_start" "$long_end"

# ---- Certificates outside the test CA ----------------------------------------------------------
# A self-signed leaf for localhost.
reset_ca_db
newkey untrusted
issue untrusted localhost untrusted_ext "$long_start" "$long_end" selfsign

# A second, independent CA, for "wrong CA" tests.
reset_ca_db
newkey other_ca
issue other_ca "tlsx other CA" ca_ext "$ca_start" "$long_end" selfsign

# ---- The server key, encrypted with the password "secret" --------------------------------------
# mbedTLS 2.28 reads PKCS#8 PBES2 only with DES-CBC or DES-EDE3-CBC (AES came in mbedTLS 3.5), and
# traditional PEM encryption with AES. So the main encrypted key is PKCS#8 with PBKDF2-HMAC-SHA256
# and DES-EDE3-CBC; the AES-256-CBC variants are there as well, one readable, one not.
openssl pkcs8 -topk8 -in server.key -v2 des3 -v2prf hmacWithSHA256 \
    -passout "pass:$password" -out server_enc.key
openssl ec -in server.key -aes256 -passout "pass:$password" -out server_enc_legacy.key 2>/dev/null
openssl pkcs8 -topk8 -in server.key -v2 aes-256-cbc -v2prf hmacWithSHA256 \
    -passout "pass:$password" -out server_enc_aes.key

# ---- Checks --------------------------------------------------------------------------------------
fail() { echo "make_certs.sh: $*" >&2; exit 1; }

for leaf in server other_host client; do
    openssl verify -CAfile ca.pem "$leaf.pem" >/dev/null || fail "$leaf does not verify"
done
openssl verify -CAfile ca.pem ca.pem >/dev/null || fail "ca does not verify"
openssl verify -CAfile other_ca.pem other_ca.pem >/dev/null || fail "other_ca does not verify"
openssl verify -CAfile untrusted.pem -partial_chain untrusted.pem >/dev/null ||
    fail "untrusted does not verify against itself"

# `expired` must fail as expired (X509_V_ERR_CERT_HAS_EXPIRED, error 10) and nothing else.
if msg="$(openssl verify -CAfile ca.pem expired.pem 2>&1)"; then
    fail "expired verifies"
fi
grep -q "error 10 at 0 depth lookup: certificate has expired" <<<"$msg" ||
    fail "expired fails for another reason: $msg"
# `untrusted` and the leaves under the wrong CA must fail as untrusted.
if openssl verify -CAfile ca.pem untrusted.pem >/dev/null 2>&1; then
    fail "untrusted verifies against the test CA"
fi
if openssl verify -CAfile other_ca.pem server.pem >/dev/null 2>&1; then
    fail "server verifies against other_ca"
fi
# The encrypted keys hold the server key.
want="$(openssl pkey -in server.key -pubout)"
for k in server_enc server_enc_legacy server_enc_aes; do
    [[ "$(openssl pkey -in "$k.key" -passin "pass:$password" -pubout)" == "$want" ]] ||
        fail "$k.key does not hold the server key"
done
openssl x509 -in server.pem -noout -ext subjectAltName | grep -q "DNS:localhost, IP Address:127.0.0.1" ||
    fail "server SAN"

# ---- Write certs.hpp -----------------------------------------------------------------------------
emit() { # emit NAME FILE [COMMENT]
    local name="$1" file="$2" comment="${3:-}"
    if [[ -n "$comment" ]]; then
        printf '%s\n' "$comment" | fold -s -w 95 | sed -e 's|^|/// |' -e 's/ *$//'
    fi
    printf 'inline constexpr std::string_view %s = R"PEM(' "$name"
    cat "$file"
    printf ')PEM";\n\n'
}

dates() { # dates FILE: "notBefore .. notAfter" of a certificate
    local nb na
    nb="$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2)"
    na="$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)"
    printf '%s .. %s' "$nb" "$na"
}

{
    cat <<EOF
//
// tlsx — test credentials. GENERATED by test/support/make_certs.sh; do not edit by hand.
//
// ECDSA P-256 keys and certificates made with $(openssl version | cut -d' ' -f1-2) on $(date -u +%Y-%m-%d).
// Run test/support/make_certs.sh to make new ones (it checks them with \`openssl verify\`).
// Every certificate except \`expired_cert\` is valid until 2125-01-01.
//
// PEM literals end with a newline; mbedTLS wants PEM NUL-terminated, so copy into a
// std::string (or pass size() + 1: the literal's NUL follows) before parsing.
//
#ifndef TLSX_TEST_SUPPORT_CERTS_HPP
#define TLSX_TEST_SUPPORT_CERTS_HPP

#include <string_view>

namespace tlsx_test::certs {

// clang-format off
EOF
    emit ca_cert ca.pem "The test CA, \"CN=tlsx test CA\" (CA:TRUE, keyCertSign), self-signed; $(dates ca.pem)."
    emit ca_key ca.key "The test CA's key (PKCS#8, unencrypted)."
    emit server_cert server.pem "CN=localhost, SAN DNS:localhost IP:127.0.0.1, serverAuth+clientAuth, signed by ca_cert; $(dates server.pem)."
    emit server_key server.key "The key of server_cert (PKCS#8, unencrypted)."
    printf '/// The password of the encrypted server keys below.\ninline constexpr std::string_view server_key_password = "%s";\n\n' "$password"
    emit server_key_encrypted server_enc.key "server_key, PKCS#8 encrypted with server_key_password (PBES2: PBKDF2-HMAC-SHA256, DES-EDE3-CBC). PKCS#8 with AES is not readable by mbedTLS 2.28 (see server_key_encrypted_pkcs8_aes256)."
    emit server_key_encrypted_legacy server_enc_legacy.key "server_key, traditional \"EC PRIVATE KEY\" PEM encrypted with AES-256-CBC (DEK-Info) and server_key_password; mbedTLS 2.28 reads it."
    emit server_key_encrypted_pkcs8_aes256 server_enc_aes.key "server_key, PKCS#8 encrypted with AES-256-CBC (PBES2, PBKDF2-HMAC-SHA256) and server_key_password, as OpenSSL 3 writes by default. mbedTLS 2.28 CANNOT read it (MBEDTLS_ERR_PKCS5_FEATURE_UNAVAILABLE): for tests of a clean failure."
    emit expired_cert expired.pem "CN=localhost, SAN DNS:localhost IP:127.0.0.1, signed by ca_cert, EXPIRED: $(dates expired.pem)."
    emit expired_key expired.key "The key of expired_cert."
    emit other_host_cert other_host.pem "CN=other.example, SAN DNS:other.example, signed by ca_cert (a name mismatch for localhost); $(dates other_host.pem)."
    emit other_host_key other_host.key "The key of other_host_cert."
    emit untrusted_cert untrusted.pem "CN=localhost, SAN DNS:localhost IP:127.0.0.1, self-signed (CA:FALSE), not signed by ca_cert; $(dates untrusted.pem)."
    emit untrusted_key untrusted.key "The key of untrusted_cert."
    emit client_cert client.pem "CN=tlsx test client, clientAuth, signed by ca_cert; $(dates client.pem)."
    emit client_key client.key "The key of client_cert."
    emit other_ca_cert other_ca.pem "A second CA, \"CN=tlsx other CA\", independent of ca_cert (for wrong-CA tests); $(dates other_ca.pem)."
    emit other_ca_key other_ca.key "The key of other_ca_cert."
    cat <<'EOF'
// clang-format on

} // namespace tlsx_test::certs

#endif
EOF
} >"$out.tmp"
mv "$out.tmp" "$out"
echo "make_certs.sh: wrote $out"
