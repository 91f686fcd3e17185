// Follows the output's symlinks with std::filesystem, by hand for a dangling one.
#include "run/output_path.hpp"

#include <filesystem>
#include <system_error>

namespace promptpack::run {

// As the kernel's limit (SYMLOOP_MAX is 40): more links than this is a loop.
constexpr int max_symlinks = 40;

std::string resolve_output_path(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);  // symlinks followed
  if (fs::exists(status)) {
    // A device or pipe (/dev/stdout names the terminal or a pipe) is written as given.
    if (!fs::is_regular_file(status)) return path;
    const fs::path real = fs::canonical(path, error);
    return error ? path : real.string();
  }
  // Missing: opening it would create the last link's target, so that is the file to name.
  fs::path resolved = path;
  for (int links = 0; links < max_symlinks && fs::is_symlink(fs::symlink_status(resolved, error));
       ++links) {
    const fs::path target = fs::read_symlink(resolved, error);
    if (error) return path;
    resolved = target.is_absolute() ? target : resolved.parent_path() / target;
  }
  const fs::path full = fs::weakly_canonical(resolved, error);
  return error ? path : full.string();
}

}  // namespace promptpack::run
