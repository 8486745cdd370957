# Links Abseil statically into everything this build makes.
#
# Debian's libabsl-dev ships each Abseil library both as a shared object and
# as a static archive built with -fPIC, and its CMake package imports the
# shared objects. A program that linked them would load some 30 shared
# objects at start-up (milliseconds and hundreds of page faults per process)
# for the few helpers sealpool uses. Included after find_package(absl): every
# imported absl:: target of this directory is pointed at its archive.

get_property(_sealpool_imported DIRECTORY PROPERTY IMPORTED_TARGETS)
foreach(_t IN LISTS _sealpool_imported)
  if(NOT _t MATCHES "^absl::")
    continue()
  endif()
  get_target_property(_type ${_t} TYPE)
  if(NOT _type STREQUAL "SHARED_LIBRARY")
    continue()
  endif()
  get_target_property(_configs ${_t} IMPORTED_CONFIGURATIONS)
  foreach(_c IN LISTS _configs)
    get_target_property(_so ${_t} IMPORTED_LOCATION_${_c})
    string(REGEX REPLACE "\\.so(\\.[0-9]+)*$" ".a" _a "${_so}")
    if(NOT EXISTS "${_a}")
      message(FATAL_ERROR "sealpool: ${_t} has no static archive (${_a}); "
                          "install libabsl-dev (tools/setup.sh)")
    endif()
    set_target_properties(${_t} PROPERTIES
      IMPORTED_LOCATION_${_c} "${_a}"
      IMPORTED_NO_SONAME_${_c} TRUE)
    set_property(GLOBAL APPEND PROPERTY SEALPOOL_ABSL_ARCHIVES "${_a}")
    set_property(GLOBAL APPEND PROPERTY SEALPOOL_ABSL_SHARED "${_so}")
  endforeach()
endforeach()
get_property(SEALPOOL_ABSL_ARCHIVES GLOBAL PROPERTY SEALPOOL_ABSL_ARCHIVES)
list(REMOVE_DUPLICATES SEALPOOL_ABSL_ARCHIVES)
# The shared objects, for libsealpool.so: Debian's archives use the
# local-exec TLS model, which a shared object cannot contain.
get_property(SEALPOOL_ABSL_SHARED GLOBAL PROPERTY SEALPOOL_ABSL_SHARED)
list(REMOVE_DUPLICATES SEALPOOL_ABSL_SHARED)
