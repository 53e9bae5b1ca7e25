# fuzz.cmake - lr_add_fuzz_target(), shared by fuzz/CMakeLists.txt (libFuzzer
# builds, LARDER_FUZZ=ON, clang) and tests/fuzz/CMakeLists.txt (corpus
# replay under ctest, every build).
#
# Each fuzz target is one C file defining LLVMFuzzerTestOneInput, plus a
# corpus directory of seed inputs. Add one line to fuzz/targets.cmake:
#
#   lr_add_fuzz_target(fuzz_fgdef SOURCE fuzz_fgdef.c CORPUS corpus/fgdef DEPS lr_core)
#
# SOURCE and CORPUS are relative to fuzz/. DEPS are the libraries the target
# links (lr_<subsystem>, imported targets).
#
# What the line builds depends on LR_FUZZ_MODE, set by the file including
# this one:
#   libfuzzer  <name>: the target linked with clang's -fsanitize=fuzzer.
#              Run: build-fuzz/fuzz/<name> -max_total_time=300 NEW_DIR fuzz/<CORPUS>
#              (new inputs go to the first directory: keep the seeds clean;
#              add -dict=fuzz/<x>.dict where a target has a dictionary).
#   replay     <name>_replay: the target linked with fuzz/replay_main.c, and a
#              ctest test (label unit) that runs every file of the corpus
#              through it, so each seed and each saved crash stays a
#              regression test in every build, gcc or clang.

function(lr_add_fuzz_target name)
  cmake_parse_arguments(F "" "SOURCE;CORPUS" "DEPS" ${ARGN})
  if(NOT F_SOURCE OR NOT F_CORPUS)
    message(FATAL_ERROR "lr_add_fuzz_target(${name}): SOURCE and CORPUS are required")
  endif()
  get_filename_component(_src ${F_SOURCE} ABSOLUTE BASE_DIR ${CMAKE_SOURCE_DIR}/fuzz)
  get_filename_component(_corpus ${F_CORPUS} ABSOLUTE BASE_DIR ${CMAKE_SOURCE_DIR}/fuzz)
  if(LR_FUZZ_MODE STREQUAL "libfuzzer")
    add_executable(${name} ${_src})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_libraries(${name} PRIVATE ${F_DEPS})
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src)
  elseif(LR_FUZZ_MODE STREQUAL "replay")
    add_executable(${name}_replay ${_src} ${CMAKE_SOURCE_DIR}/fuzz/replay_main.c)
    target_link_libraries(${name}_replay PRIVATE ${F_DEPS})
    target_include_directories(${name}_replay PRIVATE ${CMAKE_SOURCE_DIR}/src)
    add_test(NAME ${name}_replay COMMAND ${name}_replay ${_corpus})
    set_tests_properties(${name}_replay PROPERTIES LABELS "unit" TIMEOUT 300)
  else()
    message(FATAL_ERROR "lr_add_fuzz_target: set LR_FUZZ_MODE to libfuzzer or replay")
  endif()
endfunction()
