// Precompiled header for the test binaries.
#pragma once
#include <boost/test/unit_test.hpp>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <simdjson.h>
#include <string>
#include <vector>
