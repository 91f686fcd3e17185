// Precompiled header for engine sources: the heavy Boost and simdjson headers, parsed once.
#pragma once
#include <simdjson.h>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <string>
#include <string_view>
#include <vector>
