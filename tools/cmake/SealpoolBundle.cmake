# sealpool_add_bundle(<target> OUTPUT <archive> OBJECTS_OF <tgt>
#                     ARCHIVES <archive>... [WRAP <function>...]
#                     [KEEP_DYNAMIC_OF <shared library target>]
#                     [DEPENDS <target>...])
# Adds <target> (built by default), which makes <archive> from the objects
# of <tgt> and what they use of ARCHIVES, through tools/cmake/bundle.cmake
# (one relocatable object, only the kept symbols global; see there for WRAP
# and KEEP_DYNAMIC). DEPENDS: more targets whose files it is made from (an
# archive named in ARCHIVES by generator expression).
function(sealpool_add_bundle target)
  cmake_parse_arguments(PARSE_ARGV 1 B "" "OUTPUT;OBJECTS_OF;KEEP_DYNAMIC_OF"
                        "ARCHIVES;WRAP;DEPENDS")
  get_filename_component(dir "${B_OUTPUT}" DIRECTORY)
  # Lists travel to the script joined by '|'.
  string(REPLACE ";" "|" archives "${B_ARCHIVES}")
  set(extra "")
  set(deps ${B_OBJECTS_OF} ${B_DEPENDS})
  if(B_WRAP)
    string(REPLACE ";" "|" wrap "${B_WRAP}")
    list(APPEND extra "-DWRAP=${wrap}")
  endif()
  if(B_KEEP_DYNAMIC_OF)
    list(APPEND extra "-DKEEP_DYNAMIC=$<TARGET_FILE:${B_KEEP_DYNAMIC_OF}>")
    list(APPEND deps ${B_KEEP_DYNAMIC_OF})
  endif()
  add_custom_command(OUTPUT ${B_OUTPUT}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${CMAKE_COMMAND}
      "-DOBJECTS=$<JOIN:$<TARGET_OBJECTS:${B_OBJECTS_OF}>,|>"
      "-DARCHIVES=${archives}" ${extra}
      -DOUT=${B_OUTPUT} -DLD=${CMAKE_LINKER} -DOBJCOPY=${CMAKE_OBJCOPY}
      -DAR=${CMAKE_AR} -DNM=${CMAKE_NM}
      -P ${PROJECT_SOURCE_DIR}/tools/cmake/bundle.cmake
    DEPENDS ${deps} ${PROJECT_SOURCE_DIR}/tools/cmake/bundle.cmake
    VERBATIM)
  add_custom_target(${target} ALL DEPENDS ${B_OUTPUT})
endfunction()
