# Builds the installed libsealpool.a: the library's objects and the Abseil
# code they use, linked into one relocatable object in which only sealpool's
# own symbols (sp_*, sealpool::) and weak definitions (inline functions and
# template instances, which every C++ object may define) stay global.
# Abseil is inside, under local names: a host needs no Abseil library to
# link sealpool, its own Abseil (of any version) cannot clash with it, and a
# shared library that links sealpool exports nothing else of it.
#
#   cmake -DOBJECTS=<|-list> -DARCHIVES=<|-list> -DOUT=<libsealpool.a>
#         -DLD=<ld> -DOBJCOPY=<objcopy> -DAR=<ar> -DNM=<nm>
#         [-DWRAP=<|-list>] [-DKEEP_DYNAMIC=<shared object>] -P bundle.cmake
#
# Also builds libsealpool_malloc.a, whole-program mode to link first:
# WRAP lists the functions whose calls inside the bundle go to __wrap_<fn>
# (ld --wrap, see allocator/malloc/real_libc.h), and the global symbols are
# those KEEP_DYNAMIC (libsealpool_malloc.so) exports, plus weak ones.

cmake_minimum_required(VERSION 3.25)

foreach(v OBJECTS ARCHIVES OUT LD OBJCOPY AR NM)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "bundle.cmake: ${v} is not set")
  endif()
endforeach()

string(REPLACE "|" ";" OBJECTS "${OBJECTS}")
string(REPLACE "|" ";" ARCHIVES "${ARCHIVES}")
get_filename_component(dir "${OUT}" DIRECTORY)
set(obj "${dir}/sealpool_bundle.o")
set(keep "${dir}/sealpool_bundle.keep")

set(wrap_options "")
if(DEFINED WRAP)
  string(REPLACE "|" ";" WRAP "${WRAP}")
  foreach(fn IN LISTS WRAP)
    list(APPEND wrap_options "--wrap=${fn}")
  endforeach()
endif()
execute_process(
  COMMAND "${LD}" -r ${wrap_options} -o "${obj}" ${OBJECTS} --start-group ${ARCHIVES} --end-group
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle.cmake: ld -r failed")
endif()

# The symbols that stay global: defined, and sealpool's or weak.
execute_process(COMMAND "${NM}" --defined-only "${obj}"
  OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle.cmake: nm failed")
endif()
string(REPLACE "\n" ";" syms "${syms}")
set(exported "")
if(DEFINED KEEP_DYNAMIC)
  execute_process(COMMAND "${NM}" -D --defined-only "${KEEP_DYNAMIC}"
    OUTPUT_VARIABLE dyn RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "bundle.cmake: nm -D ${KEEP_DYNAMIC} failed")
  endif()
  string(REPLACE "\n" ";" dyn "${dyn}")
  foreach(line IN LISTS dyn)
    if(line MATCHES "^[0-9a-f]* [A-Za-z] (.+)$")
      list(APPEND exported "${CMAKE_MATCH_1}")
    endif()
  endforeach()
endif()
set(kept "")
foreach(line IN LISTS syms)
  if(line MATCHES "^[0-9a-f]* ([A-Za-z]) (.+)$")
    set(type "${CMAKE_MATCH_1}")
    set(name "${CMAKE_MATCH_2}")
    set(keep_it FALSE)
    if(type MATCHES "^[WVu]$")
      set(keep_it TRUE)
    elseif(type MATCHES "^[A-Z]$")
      if(DEFINED KEEP_DYNAMIC)
        if(name IN_LIST exported)
          set(keep_it TRUE)
        endif()
      elseif(name MATCHES "^(sp_|_ZN8sealpool|_ZNK8sealpool|_ZT[ISVHW]N8sealpool)")
        set(keep_it TRUE)
      endif()
    endif()
    if(keep_it)
      string(APPEND kept "${name}\n")
    endif()
  endif()
endforeach()
file(WRITE "${keep}" "${kept}")

execute_process(
  COMMAND "${OBJCOPY}" --keep-global-symbols=${keep} "${obj}"
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle.cmake: objcopy failed")
endif()
file(REMOVE "${OUT}")
execute_process(COMMAND "${AR}" qcs "${OUT}" "${obj}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "bundle.cmake: ar failed")
endif()
