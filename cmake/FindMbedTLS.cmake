# FindMbedTLS
# -----------
# Finds mbedTLS 2.28 or 3.x. Debian 12's libmbedtls-dev ships no CMake package, and where one
# exists (3.x's MbedTLSConfig.cmake) this module is still what tlsx uses, so that every mbedTLS,
# system or not, gives the same three targets with the same properties.
#
# Imported targets: MbedTLS::mbedcrypto, MbedTLS::mbedx509, MbedTLS::mbedtls
# Result variables: MbedTLS_FOUND, MbedTLS_VERSION (and _MAJOR, _MINOR, _PATCH),
#                   MbedTLS_INCLUDE_DIR, MbedTLS_LIBRARIES, MbedTLS_LIBRARY_DIR,
#                   MbedTLS_ROOT_DIR     the prefix it was found in (the include dir's parent),
#                   MbedTLS_TLS13        whether its configuration enables TLS 1.3
#                                        (MBEDTLS_SSL_PROTO_TLS1_3 in mbedtls_config.h),
#                   MbedTLS_CHOSEN_BY    which rule below chose it, in words.
#
# Which mbedTLS, the first rule that applies (docs/mbedtls.md, "Choosing the backend"):
#   a. TLSX_MBEDTLS_ROOT (CMake variable, else environment variable), or else MbedTLS_ROOT (the
#      same; standard <Package>_ROOT): that prefix only, so a wrong root fails instead of quietly
#      finding another mbedTLS. An installed tlsx's tlsxConfig.cmake sets it to the mbedTLS the
#      library was built with.
#   b. TLSX_SYSTEM_MBEDTLS=ON: CMake's usual search (CMAKE_PREFIX_PATH, then the system), so the
#      system's package even if it is 2.28.
#   c. An mbedTLS in CMAKE_PREFIX_PATH (CMake or environment variable), whatever its version.
#   d. The system's mbedTLS if it is 3.6 or a later 3.x (Debian 13, Fedora, Alpine).
#   e. The mbedTLS 3.6 that scripts/install-mbedtls36.sh built (it has the script's stamp), at
#      $TLSX_MBEDTLS36_PREFIX, else $TLSX_DEPS_PREFIX/mbedtls-3.6, else
#      ${XDG_CACHE_HOME:-$HOME/.cache}/tlsx-deps/mbedtls-3.6, else /opt/tlsx-deps/mbedtls-3.6
#      (environment variables, as the script reads them).
#   f. The system's mbedTLS whatever its version (Debian 12: 2.28, TLS 1.2 only), with a warning
#      that says how to get 3.6.
# Options:
#   MbedTLS_USE_STATIC_LIBS  link the static archives (libmbed*.a) instead of the shared ones.
#
# The libraries are IMPORTED with full paths, so CMake puts a non-system library directory in
# the build tree's RPATH by itself; to install executables that use such an mbedTLS, set
# CMAKE_INSTALL_RPATH_USE_LINK_PATH (or CMAKE_INSTALL_RPATH).

# _tlsx_mbedtls_version_in(INCLUDE_DIR OUT): the MBEDTLS_VERSION_STRING of the headers there
# (2.x keeps it in version.h, 3.x in build_info.h), or "" if there are none.
function(_tlsx_mbedtls_version_in dir out)
  set(_v "")
  foreach(_header build_info.h version.h)
    if(EXISTS "${dir}/mbedtls/${_header}")
      file(STRINGS "${dir}/mbedtls/${_header}" _line
           REGEX "^#define[ \t]+MBEDTLS_VERSION_STRING[ \t]+\"[0-9.]+\"")
      if(_line)
        string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" _v "${_line}")
        break()
      endif()
    endif()
  endforeach()
  set(${out} "${_v}" PARENT_SCOPE)
endfunction()

# 3.6 or a later 3.x: what the 3.6 port targets (4.x is a different API again).
function(_tlsx_mbedtls_is_36 version out)
  if(version MATCHES "^3\\.([0-9]+)" AND CMAKE_MATCH_1 GREATER_EQUAL 6)
    set(${out} TRUE PARENT_SCOPE)
  else()
    set(${out} FALSE PARENT_SCOPE)
  endif()
endfunction()

# ---- Which mbedTLS (rules a to f above) ------------------------------------------------------
# _tlsx_mbedtls_root: the prefix to search alone, or "" for CMake's usual search.
set(_tlsx_mbedtls_root "")
set(MbedTLS_CHOSEN_BY "")
foreach(_tlsx_var TLSX_MBEDTLS_ROOT MbedTLS_ROOT)
  if(NOT "${${_tlsx_var}}" STREQUAL "")
    set(_tlsx_mbedtls_root "${${_tlsx_var}}")
  elseif(NOT "$ENV{${_tlsx_var}}" STREQUAL "")
    set(_tlsx_mbedtls_root "$ENV{${_tlsx_var}}")
  endif()
  if(_tlsx_mbedtls_root)
    set(MbedTLS_CHOSEN_BY "${_tlsx_var}")
    break()
  endif()
endforeach()

if(NOT _tlsx_mbedtls_root AND TLSX_SYSTEM_MBEDTLS)
  set(MbedTLS_CHOSEN_BY "TLSX_SYSTEM_MBEDTLS=ON")
elseif(NOT _tlsx_mbedtls_root)
  # c. CMAKE_PREFIX_PATH alone (and CMAKE_INCLUDE_PATH, their environment forms): no system
  # directories.
  find_path(_tlsx_mbedtls_probe NAMES mbedtls/ssl.h NO_CACHE
    NO_PACKAGE_ROOT_PATH NO_SYSTEM_ENVIRONMENT_PATH NO_CMAKE_SYSTEM_PATH NO_CMAKE_INSTALL_PREFIX)
  if(_tlsx_mbedtls_probe)
    get_filename_component(_tlsx_mbedtls_root "${_tlsx_mbedtls_probe}" DIRECTORY)
    set(MbedTLS_CHOSEN_BY "CMAKE_PREFIX_PATH")
  else()
    # d. The system's, if it is 3.6.
    find_path(_tlsx_mbedtls_probe NAMES mbedtls/ssl.h NO_CACHE)
    set(_tlsx_system_version "")
    if(_tlsx_mbedtls_probe)
      _tlsx_mbedtls_version_in("${_tlsx_mbedtls_probe}" _tlsx_system_version)
      _tlsx_mbedtls_is_36("${_tlsx_system_version}" _tlsx_is_36)
      if(_tlsx_is_36)
        get_filename_component(_tlsx_mbedtls_root "${_tlsx_mbedtls_probe}" DIRECTORY)
        set(MbedTLS_CHOSEN_BY "the system's, 3.6 or later")
      endif()
    endif()
    # e. The cached build of scripts/install-mbedtls36.sh.
    if(NOT MbedTLS_CHOSEN_BY)
      set(_tlsx_cached "")
      if(NOT "$ENV{TLSX_MBEDTLS36_PREFIX}" STREQUAL "")
        list(APPEND _tlsx_cached "$ENV{TLSX_MBEDTLS36_PREFIX}")
      elseif(NOT "$ENV{TLSX_DEPS_PREFIX}" STREQUAL "")
        list(APPEND _tlsx_cached "$ENV{TLSX_DEPS_PREFIX}/mbedtls-3.6")
      else()
        if(NOT "$ENV{XDG_CACHE_HOME}" STREQUAL "")
          list(APPEND _tlsx_cached "$ENV{XDG_CACHE_HOME}/tlsx-deps/mbedtls-3.6")
        elseif(NOT "$ENV{HOME}" STREQUAL "")
          list(APPEND _tlsx_cached "$ENV{HOME}/.cache/tlsx-deps/mbedtls-3.6")
        endif()
        list(APPEND _tlsx_cached /opt/tlsx-deps/mbedtls-3.6)
      endif()
      foreach(_tlsx_dir IN LISTS _tlsx_cached)
        if(EXISTS "${_tlsx_dir}/share/tlsx/stamp" AND EXISTS "${_tlsx_dir}/include/mbedtls/ssl.h")
          set(_tlsx_mbedtls_root "${_tlsx_dir}")
          set(MbedTLS_CHOSEN_BY "scripts/install-mbedtls36.sh's build")
          break()
        endif()
      endforeach()
    endif()
    # f. The system's, whatever it is.
    if(NOT MbedTLS_CHOSEN_BY)
      set(MbedTLS_CHOSEN_BY "the system's; no mbedTLS 3.6 found")
      if(NOT MbedTLS_FIND_QUIETLY)
        message(WARNING
          "tlsx: no mbedTLS 3.6 found, so the system's mbedTLS ${_tlsx_system_version} is used: "
          "TLS 1.2 only, no TLS 1.3. To build with mbedTLS 3.6 (TLS 1.2 and 1.3), run "
          "scripts/install-mbedtls36.sh (or scripts/install-deps.sh) and configure again, or "
          "pass -DTLSX_MBEDTLS_ROOT=<prefix of an mbedTLS 3.6>. -DTLSX_SYSTEM_MBEDTLS=ON "
          "chooses the system's on purpose (and silences this warning).")
      endif()
    endif()
  endif()
  unset(_tlsx_mbedtls_probe)
endif()

# Results cached by an earlier run with another root (or none) or another library kind are
# dropped, so that changing TLSX_MBEDTLS_ROOT in an existing build tree takes effect.
set(_tlsx_mbedtls_key "${_tlsx_mbedtls_root}|${MbedTLS_USE_STATIC_LIBS}")
if(NOT "${_MbedTLS_SEARCHED}" STREQUAL "${_tlsx_mbedtls_key}"
   AND (DEFINED _MbedTLS_SEARCHED OR _tlsx_mbedtls_root))
  unset(MbedTLS_INCLUDE_DIR CACHE)
  unset(MbedTLS_CRYPTO_LIBRARY CACHE)
  unset(MbedTLS_X509_LIBRARY CACHE)
  unset(MbedTLS_TLS_LIBRARY CACHE)
endif()
set(_MbedTLS_SEARCHED "${_tlsx_mbedtls_key}" CACHE INTERNAL "root and kind FindMbedTLS searched")

# With a root (rules a, c, d, e): that prefix alone, libraries in lib, lib64 or
# lib/<multiarch>. Without one (b, f): CMake's usual search.
if(_tlsx_mbedtls_root)
  set(_tlsx_mbedtls_libdirs lib lib64)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    list(APPEND _tlsx_mbedtls_libdirs "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
  endif()
  set(_tlsx_mbedtls_inc_where PATHS "${_tlsx_mbedtls_root}" PATH_SUFFIXES include NO_DEFAULT_PATH)
  set(_tlsx_mbedtls_lib_where
    PATHS "${_tlsx_mbedtls_root}" PATH_SUFFIXES ${_tlsx_mbedtls_libdirs} NO_DEFAULT_PATH)
else()
  set(_tlsx_mbedtls_inc_where "")
  set(_tlsx_mbedtls_lib_where "")
endif()

if(MbedTLS_USE_STATIC_LIBS)
  set(_tlsx_mbedtls_suffixes "${CMAKE_FIND_LIBRARY_SUFFIXES}")
  set(CMAKE_FIND_LIBRARY_SUFFIXES ${CMAKE_STATIC_LIBRARY_SUFFIX})
endif()
find_path(MbedTLS_INCLUDE_DIR NAMES mbedtls/ssl.h ${_tlsx_mbedtls_inc_where})
find_library(MbedTLS_CRYPTO_LIBRARY NAMES mbedcrypto ${_tlsx_mbedtls_lib_where})
find_library(MbedTLS_X509_LIBRARY NAMES mbedx509 ${_tlsx_mbedtls_lib_where})
find_library(MbedTLS_TLS_LIBRARY NAMES mbedtls ${_tlsx_mbedtls_lib_where})
if(MbedTLS_USE_STATIC_LIBS)
  set(CMAKE_FIND_LIBRARY_SUFFIXES "${_tlsx_mbedtls_suffixes}")
endif()

unset(MbedTLS_VERSION)
set(MbedTLS_TLS13 FALSE)
if(MbedTLS_INCLUDE_DIR)
  _tlsx_mbedtls_version_in("${MbedTLS_INCLUDE_DIR}" MbedTLS_VERSION)
  if(MbedTLS_VERSION MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)")
    set(MbedTLS_VERSION_MAJOR "${CMAKE_MATCH_1}")
    set(MbedTLS_VERSION_MINOR "${CMAKE_MATCH_2}")
    set(MbedTLS_VERSION_PATCH "${CMAKE_MATCH_3}")
  endif()
  get_filename_component(MbedTLS_ROOT_DIR "${MbedTLS_INCLUDE_DIR}" DIRECTORY)
  # TLS 1.3 exists from 3.x on, where the configuration enables it. (This reads the default
  # configuration header; a MBEDTLS_CONFIG_FILE given at compile time is not seen here.)
  if(MbedTLS_VERSION_MAJOR GREATER_EQUAL 3
     AND EXISTS "${MbedTLS_INCLUDE_DIR}/mbedtls/mbedtls_config.h")
    file(STRINGS "${MbedTLS_INCLUDE_DIR}/mbedtls/mbedtls_config.h" _tlsx_tls13_line
         REGEX "^[ \t]*#[ \t]*define[ \t]+MBEDTLS_SSL_PROTO_TLS1_3([ \t]|$)")
    if(_tlsx_tls13_line)
      set(MbedTLS_TLS13 TRUE)
    endif()
  endif()
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(MbedTLS
  REQUIRED_VARS MbedTLS_TLS_LIBRARY MbedTLS_X509_LIBRARY MbedTLS_CRYPTO_LIBRARY MbedTLS_INCLUDE_DIR
  VERSION_VAR MbedTLS_VERSION)

if(MbedTLS_FOUND)
  set(MbedTLS_LIBRARIES "${MbedTLS_TLS_LIBRARY}" "${MbedTLS_X509_LIBRARY}" "${MbedTLS_CRYPTO_LIBRARY}")
  get_filename_component(MbedTLS_LIBRARY_DIR "${MbedTLS_TLS_LIBRARY}" DIRECTORY)
  if(MbedTLS_USE_STATIC_LIBS)
    set(_tlsx_mbedtls_kind STATIC)
    # The archives were built with MBEDTLS_THREADING_PTHREAD (Debian's configuration).
    find_package(Threads QUIET)
    if(Threads_FOUND)
      list(APPEND MbedTLS_LIBRARIES Threads::Threads)
    endif()
  else()
    set(_tlsx_mbedtls_kind UNKNOWN)
  endif()
  if(NOT TARGET MbedTLS::mbedcrypto)
    add_library(MbedTLS::mbedcrypto ${_tlsx_mbedtls_kind} IMPORTED)
    set_target_properties(MbedTLS::mbedcrypto PROPERTIES
      IMPORTED_LOCATION "${MbedTLS_CRYPTO_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${MbedTLS_INCLUDE_DIR}")
    if(MbedTLS_USE_STATIC_LIBS AND TARGET Threads::Threads)
      set_property(TARGET MbedTLS::mbedcrypto PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
    endif()
  endif()
  if(NOT TARGET MbedTLS::mbedx509)
    add_library(MbedTLS::mbedx509 ${_tlsx_mbedtls_kind} IMPORTED)
    set_target_properties(MbedTLS::mbedx509 PROPERTIES
      IMPORTED_LOCATION "${MbedTLS_X509_LIBRARY}"
      INTERFACE_LINK_LIBRARIES MbedTLS::mbedcrypto)
  endif()
  if(NOT TARGET MbedTLS::mbedtls)
    add_library(MbedTLS::mbedtls ${_tlsx_mbedtls_kind} IMPORTED)
    set_target_properties(MbedTLS::mbedtls PROPERTIES
      IMPORTED_LOCATION "${MbedTLS_TLS_LIBRARY}"
      INTERFACE_LINK_LIBRARIES MbedTLS::mbedx509)
  endif()
endif()

mark_as_advanced(MbedTLS_INCLUDE_DIR MbedTLS_CRYPTO_LIBRARY MbedTLS_X509_LIBRARY MbedTLS_TLS_LIBRARY)
