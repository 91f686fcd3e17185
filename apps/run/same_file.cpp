// Compares st_dev and st_ino, which no path spelling, hard link or symlink can disguise.
#include "run/same_file.hpp"

#include <unistd.h>

namespace promptpack::run {

bool is_same_file(const struct stat& input, const std::string& output) {
  // Only regular files: `-i /dev/null -o /dev/null` reads nothing back, so it harms nothing.
  if (!S_ISREG(input.st_mode)) return false;
  struct stat info {};
  const int status = output == "-" ? ::fstat(STDOUT_FILENO, &info) : ::stat(output.c_str(), &info);
  return status == 0 && S_ISREG(info.st_mode) && info.st_dev == input.st_dev &&
         info.st_ino == input.st_ino;
}

}  // namespace promptpack::run
