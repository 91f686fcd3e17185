// Whether a job's output is its own input, by device and inode: any spelling, hard or soft link.
#pragma once

#include <sys/stat.h>

#include <string>

namespace promptpack::run {

/// Whether `output` ("-" for standard output; symlinks followed) is the regular file that
/// `input` (the input's fstat) describes. False when the output does not exist yet.
bool is_same_file(const struct stat& input, const std::string& output);

}  // namespace promptpack::run
