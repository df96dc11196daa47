# FindMbedTLS
# -----------
# Finds mbedTLS 2.28 or 3.x. Debian 12's libmbedtls-dev ships no CMake package, and where one
# exists (3.x's MbedTLSConfig.cmake) this module is still what tlsx uses, so that every mbedTLS,
# system or not, gives the same three targets with the same properties.
#
# Imported targets: MbedTLS::mbedcrypto, MbedTLS::mbedx509, MbedTLS::mbedtls
# Result variables: MbedTLS_FOUND, MbedTLS_VERSION (and _MAJOR, _MINOR, _PATCH),
#                   MbedTLS_INCLUDE_DIR, MbedTLS_LIBRARIES, MbedTLS_LIBRARY_DIR
#
# Where it looks:
#   TLSX_MBEDTLS_ROOT  (CMake variable, else environment variable) or else
#   MbedTLS_ROOT       (CMake variable, else environment variable; standard <Package>_ROOT):
#                      the prefix of one mbedTLS install, e.g. the one
#                      scripts/install-mbedtls36.sh prints. Only that prefix is searched, so a
#                      wrong root fails instead of quietly finding the system's mbedTLS.
#   otherwise          CMake's usual search: CMAKE_PREFIX_PATH first, then the system.
# Options:
#   MbedTLS_USE_STATIC_LIBS  link the static archives (libmbed*.a) instead of the shared ones.
#
# The libraries are IMPORTED with full paths, so CMake puts a non-system library directory in
# the build tree's RPATH by itself; to install executables that use such an mbedTLS, set
# CMAKE_INSTALL_RPATH_USE_LINK_PATH (or CMAKE_INSTALL_RPATH).

set(_tlsx_mbedtls_root "")
foreach(_tlsx_var TLSX_MBEDTLS_ROOT MbedTLS_ROOT)
  if(NOT "${${_tlsx_var}}" STREQUAL "")
    set(_tlsx_mbedtls_root "${${_tlsx_var}}")
  elseif(NOT "$ENV{${_tlsx_var}}" STREQUAL "")
    set(_tlsx_mbedtls_root "$ENV{${_tlsx_var}}")
  endif()
  if(_tlsx_mbedtls_root)
    break()
  endif()
endforeach()

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

# With a root: that prefix alone, libraries in lib, lib64 or lib/<multiarch>. Without one: the
# same search as before roots were supported.
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
if(MbedTLS_INCLUDE_DIR)
  # 2.x keeps the version in version.h, 3.x in build_info.h.
  foreach(_tlsx_header build_info.h version.h)
    if(EXISTS "${MbedTLS_INCLUDE_DIR}/mbedtls/${_tlsx_header}")
      file(STRINGS "${MbedTLS_INCLUDE_DIR}/mbedtls/${_tlsx_header}" _tlsx_version_line
           REGEX "^#define[ \t]+MBEDTLS_VERSION_STRING[ \t]+\"[0-9.]+\"")
      if(_tlsx_version_line)
        string(REGEX REPLACE ".*\"([0-9.]+)\".*" "\\1" MbedTLS_VERSION "${_tlsx_version_line}")
        break()
      endif()
    endif()
  endforeach()
  if(MbedTLS_VERSION MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)")
    set(MbedTLS_VERSION_MAJOR "${CMAKE_MATCH_1}")
    set(MbedTLS_VERSION_MINOR "${CMAKE_MATCH_2}")
    set(MbedTLS_VERSION_PATCH "${CMAKE_MATCH_3}")
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
