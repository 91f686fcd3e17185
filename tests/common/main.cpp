// The Boost.Test entry point shared by the test binaries.
#define BOOST_TEST_MODULE promptpack
#include <boost/test/unit_test.hpp>
