#!/usr/bin/env bash
#
# Provides mbedTLS 3.6 LTS for tlsx and prints its install prefix (one line on stdout; all
# progress goes to stderr), so that callers can write
#
#   root="$(scripts/install-mbedtls36.sh)"
#   cmake -S . -B build -DTLSX_MBEDTLS_ROOT="$root"
#
# 1. If the system headers are mbedTLS 3.6 or later 3.x (Debian 13, Fedora, Alpine, ...), prints
#    the system prefix and stops.
# 2. If a previous run finished an install (its stamp file is there), prints that prefix and
#    stops: nothing is downloaded or rebuilt.
# 3. Otherwise (Debian 12) fetches Debian's own `mbedtls` source package from the next release
#    with apt, using a private apt state directory (its own source list, lists and cache) and the
#    mirror that the system's own apt sources name. No system source list or installed package
#    changes; only missing build tools are installed as ordinary packages.
# 4. Unpacks it with Debian's patches applied (dpkg-source), applies Debian's configuration (the
#    scripts/config.py calls in debian/rules), and builds the library only, with Debian's
#    hardening flags, as shared libraries plus static PIC archives, into the prefix.
# 5. Checks the install (a program that links it and runs psa_crypto_init()), records the
#    configuration it was built with, and writes the stamp.
#
# Variables (all optional):
#   TLSX_DEPS_PREFIX          where tlsx's built dependencies live. Default: /opt/tlsx-deps as
#                             root (CI), ${XDG_CACHE_HOME:-~/.cache}/tlsx-deps otherwise.
#   TLSX_MBEDTLS36_PREFIX     the install prefix itself. Default: $TLSX_DEPS_PREFIX/mbedtls-3.6.
#   TLSX_MBEDTLS36_SUITE      the Debian suite to take the source package from. Default: trixie.
#   TLSX_MBEDTLS36_REBUILD=1  ignore the stamp: fetch and build again (picks up a newer upload).
#   TLSX_MBEDTLS36_KEEP_WORK=1  keep the work directory (apt state, sources, build tree).
#   TLSX_DEBIAN_MIRROR        the Debian archive URI to use instead of the system's own.
#   TLSX_APT_KEYRING          the keyring that signs the suite. Default: Debian's archive keyring.
#   TLSX_JOBS                 build parallelism. Default: nproc.
#
# Works as root, or as a user (with sudo only if build tools are missing). Safe to re-run, and to
# run concurrently (a lock serialises runs that share a prefix).
set -euo pipefail

readonly recipe=1 # bump when a change to this script must invalidate finished installs

log() { echo "install-mbedtls36: $*" >&2; }
die() {
    log "error: $*"
    exit 1
}

case "${1:-}" in
    "") ;;
    -h | --help)
        sed -n '3,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
        exit 0
        ;;
    --rebuild) TLSX_MBEDTLS36_REBUILD=1 ;;
    *) die "unknown argument '$1' (try --help)" ;;
esac

# ---- 1. A system mbedTLS 3.6 is used as it is ----------------------------------------------
# version_of HEADER: the MBEDTLS_VERSION_STRING a version header defines, or nothing.
version_of() {
    [[ -f "$1" ]] || return 0
    sed -n 's/^#define[[:space:]][[:space:]]*MBEDTLS_VERSION_STRING[[:space:]][[:space:]]*"\([0-9.]*\)".*/\1/p' "$1"
}

# is_36 VERSION: 3.6 or a later 3.x. (4.x is a different API, not what the 3.6 port targets.)
is_36() {
    local major minor
    IFS=. read -r major minor _ <<<"$1"
    [[ "$major" == 3 && "$minor" =~ ^[0-9]+$ ]] && ((minor >= 6))
}

system_version="$(version_of /usr/include/mbedtls/build_info.h)"
if [[ -n "$system_version" ]] && is_36 "$system_version"; then
    log "the system has mbedTLS $system_version (/usr/include/mbedtls); nothing to build"
    echo /usr
    exit 0
fi
if [[ -n "$system_version" ]]; then
    log "the system has mbedTLS $system_version, not 3.6"
else
    system_version="$(version_of /usr/include/mbedtls/version.h)"
    log "the system has ${system_version:+mbedTLS $system_version, }no mbedTLS 3.6"
fi

# ---- 2. A finished install is reused ---------------------------------------------------------
if [[ -z "${TLSX_DEPS_PREFIX:-}" ]]; then
    if ((EUID == 0)); then
        TLSX_DEPS_PREFIX=/opt/tlsx-deps
    else
        TLSX_DEPS_PREFIX="${XDG_CACHE_HOME:-$HOME/.cache}/tlsx-deps"
    fi
fi
prefix="${TLSX_MBEDTLS36_PREFIX:-$TLSX_DEPS_PREFIX/mbedtls-3.6}"
[[ "$prefix" == /* ]] || prefix="$PWD/$prefix"
stamp="$prefix/share/tlsx/stamp"
suite="${TLSX_MBEDTLS36_SUITE:-trixie}"

# installed: whether $prefix holds a finished install of this recipe.
installed() {
    [[ -f "$stamp" && -f "$prefix/include/mbedtls/build_info.h" && -e "$prefix/lib/libmbedtls.so" ]] &&
        grep -qx "recipe=$recipe" "$stamp"
}

report_installed() {
    log "mbedTLS $(sed -n 's/^version=//p' "$stamp") (Debian $(sed -n 's/^debian_version=//p' "$stamp")) is installed in $prefix"
    echo "$prefix"
}

if [[ "${TLSX_MBEDTLS36_REBUILD:-0}" != 1 ]] && installed; then
    report_installed
    exit 0
fi

mkdir -p "$(dirname "$prefix")"
# One run at a time per prefix: a second run waits, then finds the first one's install.
if command -v flock >/dev/null; then
    exec 9>"$prefix.lock"
    if ! flock -n 9; then
        log "another run is installing into $prefix; waiting for it"
        flock 9
    fi
    if [[ "${TLSX_MBEDTLS36_REBUILD:-0}" != 1 ]] && installed; then
        report_installed
        exit 0
    fi
fi

log "building mbedTLS 3.6 into $prefix"

# ---- 3. Build tools (ordinary packages) -------------------------------------------------------
command -v apt-get >/dev/null ||
    die "no mbedTLS 3.6 on this system and no apt-get to fetch Debian's source package; install mbedTLS 3.6 and pass -DTLSX_MBEDTLS_ROOT=<its prefix>"

# tool -> package that provides it
declare -A tools=(
    [dpkg-source]=dpkg-dev [dpkg-buildflags]=dpkg-dev [cmake]=cmake [make]=make [cc]=gcc
    [python3]=python3 [bzip2]=bzip2 [xz]=xz-utils [gpgv]=gpgv
)
missing=()
for t in "${!tools[@]}"; do
    command -v "$t" >/dev/null || missing+=("${tools[$t]}")
done
if ((${#missing[@]})); then
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    log "installing build tools: ${missing[*]}"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null ||
            die "not root and no sudo; install these packages by hand: ${missing[*]}"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi

# ---- 4. Where the system's apt gets Debian from ------------------------------------------------
# shellcheck source=/dev/null
codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"

# deb822_uri SUITE: the first URI of an enabled deb/deb-src stanza of the system's *.sources
# files that lists SUITE.
deb822_uri() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        awk -v want="$1" '
            function flush() {
                if (uri != "" && enabled != "no" && types ~ /(^| )deb(-src)?( |$)/ &&
                    (" " suites " ") ~ (" " want " ")) { print uri; found = 1; exit }
                uri = ""; suites = ""; types = ""; enabled = ""
            }
            /^[ \t]*#/ { next }
            /^[ \t]*$/ { flush(); next }
            tolower($1) == "uris:"    { uri = $2 }
            tolower($1) == "types:"   { $1 = ""; types = $0 }
            tolower($1) == "suites:"  { $1 = ""; suites = $0 }
            tolower($1) == "enabled:" { enabled = tolower($2) }
            END { if (!found) flush() }
        ' "$f"
    done | head -n 1
}

# oneline_uri SUITE: the URI of the first deb/deb-src line of sources.list(.d/*.list) for SUITE.
oneline_uri() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        awk -v want="$1" '
            $1 != "deb" && $1 != "deb-src" { next }
            {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/ && i < NF) i++; i++ }  # skip [options]
                if ($(i + 1) == want) { print $i; exit }
            }
        ' "$f"
    done | head -n 1
}

system_uri() { # system_uri SUITE
    local uri
    uri="$(deb822_uri "$1")"
    [[ -n "$uri" ]] || uri="$(oneline_uri "$1")"
    echo "${uri%/}"
}

if [[ -n "${TLSX_DEBIAN_MIRROR:-}" ]]; then
    mirror="${TLSX_DEBIAN_MIRROR%/}"
    security_mirror=""
else
    [[ -n "$codename" ]] || die "cannot tell this system's release (no VERSION_CODENAME in /etc/os-release)"
    mirror="$(system_uri "$codename")"
    [[ -n "$mirror" ]] ||
        die "no apt source for '$codename' in /etc/apt/sources.list or /etc/apt/sources.list.d; set TLSX_DEBIAN_MIRROR to a Debian archive URI"
    # Security fixes to a stable release reach its -security suite first.
    security_mirror="$(system_uri "$codename-security")"
fi

keyring="${TLSX_APT_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}"
[[ -r "$keyring" ]] ||
    die "no keyring at $keyring to verify '$suite' with; install debian-archive-keyring or set TLSX_APT_KEYRING"

# ---- 5. Fetch the source package with a private apt state ---------------------------------------
work="$prefix.work"
rm -rf "$work"
aptdir="$work/apt"
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$work/src"
# As root, apt downloads as its sandbox user; let it write the source package where it goes.
if ((EUID == 0)) && id -u _apt >/dev/null 2>&1; then
    chown _apt "$work/src"
fi
{
    echo "# Written by tlsx scripts/install-mbedtls36.sh; used only by its private apt calls."
    echo "deb-src [signed-by=$keyring] $mirror $suite main"
    if [[ -n "$security_mirror" ]]; then
        echo "deb-src [signed-by=$keyring] $security_mirror $suite-security main"
    fi
} >"$aptdir/sources.list"

apt_private=(
    -o Dir::Etc::SourceList="$aptdir/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o Dir::Etc::Preferences=/dev/null
    -o Dir::Etc::PreferencesParts=/dev/null
    -o Dir::State::Lists="$aptdir/lists"
    -o Dir::Cache="$aptdir/cache"
    -o Acquire::Languages=none
    -o Acquire::AllowInsecureRepositories=false
    -o Acquire::AllowDowngradeToInsecureRepositories=false
)

t0=$SECONDS
log "fetching the index of Debian '$suite' (source packages, signatures checked against $keyring)"
apt-get "${apt_private[@]}" update >&2 ||
    die "apt could not fetch or verify '$suite' (a NO_PUBKEY error means $keyring lacks that release's keys: update debian-archive-keyring, or point TLSX_APT_KEYRING at a keyring that has them)"

log "downloading and unpacking the mbedtls source package"
(cd "$work/src" && apt-get "${apt_private[@]}" source --only-source mbedtls >&2)
download_seconds=$((SECONDS - t0))

srcdir=""
for d in "$work/src"/mbedtls-*/; do
    [[ -d "$d" ]] && srcdir="${d%/}"
done
[[ -n "$srcdir" ]] || die "apt-get source unpacked no mbedtls-* directory in $work/src"
cd "$srcdir"

debian_version="$(dpkg-parsechangelog -S Version)"
version="$(version_of include/mbedtls/build_info.h)"
is_36 "$version" || die "'$suite' has mbedtls $debian_version, not 3.6; set TLSX_MBEDTLS36_SUITE"
log "got mbedtls $debian_version (mbedTLS $version) in ${download_seconds}s"

# dpkg-source applied debian/patches; make sure all of them are applied.
if [[ -s debian/patches/series ]]; then
    wanted="$(grep -cvE '^[[:space:]]*(#|$)' debian/patches/series || true)"
    applied="$(grep -cvE '^[[:space:]]*(#|$)' .pc/applied-patches 2>/dev/null || true)"
    [[ "$wanted" == "$applied" ]] ||
        die "dpkg-source applied ${applied:-0} of Debian's $wanted patches"
    log "Debian's patches applied: $(grep -vE '^[[:space:]]*(#|$)' debian/patches/series | tr '\n' ' ')"
fi

# ---- 6. Debian's configuration ------------------------------------------------------------------
# Debian configures mbedTLS in debian/rules (override_dh_auto_configure) with
# `scripts/config.py set|unset NAME [VALUE]`, not with a patch; run the same calls.
mapfile -t config_calls < <(
    awk '/^override_dh_auto_configure:/ { f = 1; next } f && /^[^\t]/ { f = 0 } f' debian/rules |
        sed -n 's/^[[:space:]]*scripts\/config\.py[[:space:]]\{1,\}\(\(set\|unset\)[[:space:]].*\)$/\1/p'
)
((${#config_calls[@]})) ||
    die "debian/rules no longer configures mbedTLS with scripts/config.py; see how it does now and update this script"
for call in "${config_calls[@]}"; do
    read -r -a args <<<"$call"
    log "Debian config: ${args[*]}"
    python3 scripts/config.py "${args[@]}"
done

# ---- 7. Build and install the library --------------------------------------------------------------
# Debian's compiler and linker flags (debian/rules: hardening=+all; its LTO stays off, and qa=+all
# only adds canary flags for the package checks).
eval "$(DEB_BUILD_MAINT_OPTIONS='hardening=+all' dpkg-buildflags --export=sh)"
export CFLAGS CPPFLAGS LDFLAGS

jobs="${TLSX_JOBS:-$(nproc)}"
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
t1=$SECONDS
log "building the library (shared and static PIC) with $jobs jobs"
# Shared libraries, as every system mbedTLS ships them, carry $ORIGIN so that libmbedtls finds
# libmbedx509 and libmbedcrypto beside it; the static archives are PIC so that they can go into a
# shared libtlsx too. CMAKE_BUILD_TYPE=None: the flags are Debian's alone.
cmake -S . -B "$work/build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=None \
    -DCMAKE_INSTALL_PREFIX="$prefix" \
    -DCMAKE_INSTALL_LIBDIR=lib \
    -DCMAKE_INSTALL_RPATH="\$ORIGIN" \
    -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DUSE_SHARED_MBEDTLS_LIBRARY=ON \
    -DUSE_STATIC_MBEDTLS_LIBRARY=ON \
    -DENABLE_PROGRAMS=OFF \
    -DENABLE_TESTING=OFF \
    -DGEN_FILES=OFF \
    -DMBEDTLS_FATAL_WARNINGS=OFF >&2
cmake --build "$work/build" -j "$jobs" >&2
rm -rf "$work/stage"
DESTDIR="$work/stage" cmake --install "$work/build" >&2
build_seconds=$((SECONDS - t1))
staged="$work/stage$prefix"
log "built in ${build_seconds}s"

# ---- 8. Check the install, record its configuration -----------------------------------------------
mkdir -p "$staged/share/tlsx"
cat >"$work/check.c" <<'EOF'
#include <mbedtls/ssl.h>
#include <mbedtls/version.h>
#include <psa/crypto.h>
#include <stdio.h>

#define ON(name) printf("%-58s %s\n", #name, ON_##name)
#define STR2(x) #x
#define STR(x) STR2(x)

int main(void)
{
    char version[18];
    mbedtls_version_get_string(version);
    printf("%-58s %s\n", "version", version);
#include "check-list.h"
    if (psa_crypto_init() != PSA_SUCCESS) {
        fprintf(stderr, "psa_crypto_init failed\n");
        return 1;
    }
    return 0;
}
EOF
# The options tlsx cares about; each prints on or off.
options=(
    MBEDTLS_SSL_PROTO_TLS1_2 MBEDTLS_SSL_PROTO_TLS1_3 MBEDTLS_SSL_TLS1_3_COMPATIBILITY_MODE
    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_EPHEMERAL_ENABLED
    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_ENABLED
    MBEDTLS_SSL_TLS1_3_KEY_EXCHANGE_MODE_PSK_EPHEMERAL_ENABLED
    MBEDTLS_SSL_EARLY_DATA MBEDTLS_SSL_RENEGOTIATION MBEDTLS_SSL_SESSION_TICKETS
    MBEDTLS_SSL_TICKET_C MBEDTLS_SSL_CACHE_C MBEDTLS_SSL_KEEP_PEER_CERTIFICATE
    MBEDTLS_SSL_CONTEXT_SERIALIZATION MBEDTLS_SSL_ALPN MBEDTLS_SSL_SERVER_NAME_INDICATION
    MBEDTLS_SSL_MAX_FRAGMENT_LENGTH MBEDTLS_SSL_RECORD_SIZE_LIMIT MBEDTLS_SSL_ENCRYPT_THEN_MAC
    MBEDTLS_SSL_EXTENDED_MASTER_SECRET MBEDTLS_SSL_ALL_ALERT_MESSAGES
    MBEDTLS_SSL_PROTO_DTLS MBEDTLS_SSL_DTLS_ANTI_REPLAY MBEDTLS_SSL_DTLS_HELLO_VERIFY
    MBEDTLS_SSL_DTLS_CLIENT_PORT_REUSE MBEDTLS_SSL_DTLS_CONNECTION_ID
    MBEDTLS_SSL_DTLS_SRTP MBEDTLS_SSL_COOKIE_C
    MBEDTLS_THREADING_C MBEDTLS_THREADING_PTHREAD MBEDTLS_DEBUG_C
    MBEDTLS_PSA_CRYPTO_C MBEDTLS_USE_PSA_CRYPTO MBEDTLS_PSA_CRYPTO_STORAGE_C
    MBEDTLS_DEPRECATED_WARNING MBEDTLS_DEPRECATED_REMOVED MBEDTLS_CMAC_C MBEDTLS_NET_C
    MBEDTLS_X509_CRT_WRITE_C MBEDTLS_PEM_WRITE_C MBEDTLS_FS_IO
)
{
    for o in "${options[@]}"; do
        printf '#if defined(%s)\n#define ON_%s "on"\n#else\n#define ON_%s "off"\n#endif\n' "$o" "$o" "$o"
        printf 'ON(%s);\n' "$o"
    done
    # These have values (MBEDTLS_SSL_DTLS_CONNECTION_ID_COMPAT 0: RFC 9146 connection IDs).
    for n in MBEDTLS_SSL_DTLS_CONNECTION_ID_COMPAT MBEDTLS_SSL_IN_CONTENT_LEN MBEDTLS_SSL_OUT_CONTENT_LEN; do
        printf '#if defined(%s)\nprintf("%%-58s %%s\\n", "%s", STR(%s));\n' "$n" "$n" "$n"
        printf '#else\nprintf("%%-58s %%s\\n", "%s", "undefined");\n#endif\n' "$n"
    done
} >"$work/check-list.h"
cc -I"$staged/include" -I"$work" "$work/check.c" -o "$work/check" \
    -L"$staged/lib" -Wl,-rpath,"$staged/lib" -lmbedtls -lmbedx509 -lmbedcrypto -lpthread
"$work/check" >"$staged/share/tlsx/config.txt" ||
    die "the built library does not work: the check program failed"
grep -qx "version  *$version" "$staged/share/tlsx/config.txt" ||
    die "the check program ran against another mbedTLS than $version"

# ---- 9. Move it into place, write the stamp ------------------------------------------------------
rm -rf "$prefix.old"
[[ ! -e "$prefix" ]] || mv "$prefix" "$prefix.old"
mv "$staged" "$prefix"
rm -rf "$prefix.old"
cat >"$stamp" <<EOF
recipe=$recipe
version=$version
debian_version=$debian_version
suite=$suite
built=$(date -u +%Y-%m-%dT%H:%M:%SZ)
download_seconds=$download_seconds
build_seconds=$build_seconds
EOF
cd /
if [[ "${TLSX_MBEDTLS36_KEEP_WORK:-0}" == 1 ]]; then
    log "work directory kept: $work"
else
    rm -rf "$work"
fi

log "configuration ($prefix/share/tlsx/config.txt):"
sed 's/^/    /' "$prefix/share/tlsx/config.txt" >&2
log "download ${download_seconds}s, build ${build_seconds}s"
report_installed
