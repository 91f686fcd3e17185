# The project's warning set, as an INTERFACE target so consumers of the installed package don't inherit it.
add_library(promptpack_warnings INTERFACE)
target_compile_options(promptpack_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
  # Designated initializers that leave fields at their defaults are intended.
  -Wno-missing-field-initializers)
