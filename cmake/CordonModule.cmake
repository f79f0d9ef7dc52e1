# cordon_module(NAME [DEPS ...] [PRIVATE_DEPS ...] [TEST_DEPS ...])
#
# Builds the static library cordon_NAME from every *.cc in the calling folder
# (tests *_test.cc and fuzzers *_fuzz.cc excluded), and, when the folder has
# *_test.cc files, one GoogleTest binary NAME_tests linked against the library,
# registered with ctest under the label "unit". One binary per module keeps link
# time down on 2 cores and makes a stray dependency fail to link.
function(cordon_module name)
  cmake_parse_arguments(M "" "" "DEPS;PRIVATE_DEPS;TEST_DEPS" ${ARGN})
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "(_test|_fuzz|/main)\\.cc$")
  if(NOT srcs)  # a module whose sources are yet to be written still links
    set(srcs ${CMAKE_CURRENT_BINARY_DIR}/empty.cc)
    file(WRITE ${srcs} "")
  endif()
  add_library(cordon_${name} STATIC ${srcs})
  target_include_directories(cordon_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(cordon_${name} PUBLIC ${M_DEPS} PRIVATE ${M_PRIVATE_DEPS})
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
endfunction()

# Where the shared real data sets live: ../shared/data beside the checkout,
# overridable with -DCORDON_SHARED_DATA=... .
if(NOT CORDON_SHARED_DATA)
  get_filename_component(CORDON_SHARED_DATA "${PROJECT_SOURCE_DIR}/../shared/data" ABSOLUTE)
endif()
set(CORDON_SHARED_DATA "${CORDON_SHARED_DATA}" CACHE PATH "shared real data sets")
