# Installs the engine and exports promptpack::engine so that find_package(promptpack) works.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS promptpack_engine EXPORT promptpackTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/promptpack DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT promptpackTargets NAMESPACE promptpack::
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/promptpack)
configure_package_config_file(cmake/promptpackConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/promptpackConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/promptpack)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/promptpackConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/promptpackConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/promptpackConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/promptpack)
if(PROMPTPACK_BUILD_APPS)
  install(TARGETS promptpack RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
