# Prints, one per line, the names of the programs that run the tests carrying
# a given label, read from a build tree's CTestTestfile.cmake files:
#
#   cmake -DBUILD_DIR=<build tree> -DLABEL=<label> -P tools/cmake/test_executables.cmake
#
# tools/test.sh uses it to build only the test programs a stage runs. It
# works before anything is built (unlike `ctest --show-only`, which omits
# commands whose programs do not exist yet). Tests that GoogleTest discovers
# at build time are unknown until then; for them this prints nothing and the
# caller builds everything.

cmake_minimum_required(VERSION 3.25)

if(NOT DEFINED BUILD_DIR OR NOT DEFINED LABEL)
  message(FATAL_ERROR
    "usage: cmake -DBUILD_DIR=<dir> -DLABEL=<label> -P ${CMAKE_CURRENT_LIST_FILE}")
endif()

set_property(GLOBAL PROPERTY sealpool_labelled "")

# The commands a CTestTestfile.cmake uses, redefined to record what they say.
function(add_test name)
  if(ARGC GREATER 1)
    set_property(GLOBAL PROPERTY "sealpool_cmd_${name}" "${ARGV1}")
  endif()
endfunction()

function(set_tests_properties)
  set(names "")
  set(i 0)
  while(i LESS ARGC AND NOT "${ARGV${i}}" STREQUAL "PROPERTIES")
    list(APPEND names "${ARGV${i}}")
    math(EXPR i "${i} + 1")
  endwhile()
  math(EXPR i "${i} + 1")
  while(i LESS ARGC)
    math(EXPR j "${i} + 1")
    if(j LESS ARGC AND "${ARGV${i}}" STREQUAL "LABELS" AND "${LABEL}" IN_LIST ARGV${j})
      foreach(name IN LISTS names)
        set_property(GLOBAL APPEND PROPERTY sealpool_labelled "${name}")
      endforeach()
    endif()
    math(EXPR i "${i} + 2")
  endwhile()
endfunction()

macro(subdirs)
  foreach(_sealpool_sub ${ARGN})
    _sealpool_read_dir("${_sealpool_dir}/${_sealpool_sub}")
  endforeach()
endmacro()

function(_sealpool_read_dir dir)
  set(_sealpool_dir "${dir}")
  if(EXISTS "${dir}/CTestTestfile.cmake")
    include("${dir}/CTestTestfile.cmake")
  endif()
endfunction()

_sealpool_read_dir("${BUILD_DIR}")

get_property(labelled GLOBAL PROPERTY sealpool_labelled)
set(programs "")
foreach(name IN LISTS labelled)
  get_property(cmd GLOBAL PROPERTY "sealpool_cmd_${name}")
  if(cmd)
    get_filename_component(program "${cmd}" NAME)
    list(APPEND programs "${program}")
  endif()
endforeach()
list(REMOVE_DUPLICATES programs)
foreach(program IN LISTS programs)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E echo "${program}")
endforeach()
