// The promptpack error category and the wire names of error types.
#include <promptpack/error.hpp>

namespace promptpack {

std::string_view to_string(errc type) noexcept {
  switch (type) {
    case errc::invalid_input:
      return "invalid_input";
    case errc::http_status:
      return "http_status";
    case errc::timeout:
      return "timeout";
    case errc::connection:
      return "connection";
    case errc::tls:
      return "tls";
    case errc::protocol:
      return "protocol";
    case errc::endpoint:
      return "endpoint";
    case errc::cancelled:
      return "cancelled";
  }
  return "unknown";
}

namespace {
// Boost's error_category has a protected non-virtual destructor by design (categories are
// never deleted through a base pointer); GCC warns about any class derived from it.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnon-virtual-dtor"
class promptpack_category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "promptpack"; }
  std::string message(int value) const override {
    switch (static_cast<errc>(value)) {
      case errc::invalid_input:
        return "invalid input: the prompt or its parameters cannot be sent";
      case errc::http_status:
        return "the endpoint answered with an HTTP error status";
      case errc::timeout:
        return "no complete response in time";
      case errc::connection:
        return "could not connect, or the connection died";
      case errc::tls:
        return "TLS handshake or certificate check failed";
      case errc::protocol:
        return "the endpoint's answer breaks the protocol";
      case errc::endpoint:
        return "the endpoint answered with an error message";
      case errc::cancelled:
        return "cancelled: the client shut down first";
    }
    return "unknown promptpack error";
  }
};
#pragma GCC diagnostic pop
}  // namespace

const boost::system::error_category& error_category() noexcept {
  static const promptpack_category category;
  return category;
}

}  // namespace promptpack
