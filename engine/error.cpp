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
class promptpack_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "promptpack"; }
  std::string message(int value) const override {
    return std::string(to_string(static_cast<errc>(value)));
  }
};
}  // namespace

const std::error_category& error_category() noexcept {
  static const promptpack_category category;
  return category;
}

}  // namespace promptpack
