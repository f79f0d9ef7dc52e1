# cordon_module(NAME [DEPS ...] [PRIVATE_DEPS ...] [TEST_DEPS ...])
#
# Builds the static library cordon_NAME from every *.cc in the calling folder
# (tests *_test.cc and fuzzers *_fuzz.cc excluded), and, when the folder has
# *_test.cc files, one GoogleTest binary NAME_tests linked against the library,
# registered with ctest under the label "unit". One binary per module keeps link
# time down on 2 cores and makes a stray dependency fail to link.
#
# Each *_fuzz.cc (a libFuzzer target, LLVMFuzzerTestOneInput) becomes an
# executable of its name, linked like the tests. With CORDON_FUZZ (clang, the
# "fuzz" preset) it is a libFuzzer binary; otherwise it replays its corpus in
# tests/fuzz/<name>/ as the ctest "<name>_corpus" (label "unit").
function(cordon_module name)
  cmake_parse_arguments(M "" "" "DEPS;PRIVATE_DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "(_test|_fuzz|_main|/main)\\.cc$")
  if(NOT srcs)  # a module whose sources are yet to be written still links
    set(srcs ${CMAKE_CURRENT_BINARY_DIR}/empty.cc)
    file(WRITE ${srcs} "")
  endif()
  add_library(cordon_${name} STATIC ${srcs})
  target_include_directories(cordon_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cordon_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  # Coverage feedback for libFuzzer. Not in net, nor UBSan there: clang 14
  # fails on its coroutines with either ("Cannot represent a difference across
  # sections"), and no fuzzer parses through it.
  if(CORDON_FUZZ AND name STREQUAL "net")
    target_compile_options(cordon_${name} PRIVATE -fno-sanitize=undefined)
  elseif(CORDON_FUZZ)
    target_compile_options(cordon_${name} PRIVATE -fsanitize=fuzzer-no-link)
  endif()
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(tests AND CORDON_BUILD_TESTS)
    add_executable(${name}_tests ${tests})
    target_link_libraries(${name}_tests PRIVATE cordon_${name} cordon_testutil
                          ${M_TEST_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
    gtest_discover_tests(${name}_tests
      PROPERTIES LABELS unit
                 ENVIRONMENT "CORDON_SHARED_DATA=${CORDON_SHARED_DATA}"
      DISCOVERY_TIMEOUT 60)
  endif()
  file(GLOB fuzzers CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_fuzz.cc)
  foreach(fuzzer_src ${fuzzers})
    get_filename_component(fuzzer ${fuzzer_src} NAME_WE)
    if(CORDON_FUZZ)
      add_executable(${fuzzer} ${fuzzer_src})
      target_compile_options(${fuzzer} PRIVATE -fsanitize=fuzzer)
      target_link_options(${fuzzer} PRIVATE -fsanitize=fuzzer)
    elseif(CORDON_BUILD_TESTS)
      add_executable(${fuzzer} ${fuzzer_src} ${PROJECT_SOURCE_DIR}/src/testutil/fuzz_replay_main.cc)
      add_test(NAME ${fuzzer}_corpus COMMAND ${fuzzer} ${PROJECT_SOURCE_DIR}/tests/fuzz/${fuzzer})
      set_tests_properties(${fuzzer}_corpus PROPERTIES LABELS unit)
    else()
      continue()
    endif()
    target_link_libraries(${fuzzer} PRIVATE cordon_${name} ${M_TEST_DEPS})
  endforeach()
endfunction()

# Where the shared real data sets live: ../shared/data beside the checkout,
# overridable with -DCORDON_SHARED_DATA=... .
if(NOT CORDON_SHARED_DATA)
  get_filename_component(CORDON_SHARED_DATA "${PROJECT_SOURCE_DIR}/../shared/data" ABSOLUTE)
endif()
set(CORDON_SHARED_DATA "${CORDON_SHARED_DATA}" CACHE PATH "shared real data sets")
