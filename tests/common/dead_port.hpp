// A loopback port with nothing listening, for tests of an endpoint that is down.
#pragma once

#include <cstdint>

namespace promptpack::test {

/// A free port of 127.0.0.1: bound once to get the number, then closed again.
std::uint16_t dead_port();

}  // namespace promptpack::test
