// The output's real path, resolved once at the start so that every operation acts on one file.
#pragma once

#include <string>

namespace promptpack::run {

/// The file that `path` names, symlinks followed: the real path of an existing regular file, or,
/// for a missing one, the path that opening it with O_CREAT would create (a dangling symlink's
/// target, links in the folders resolved). Everything the job does to its output (truncating,
/// reading it back, cutting a torn record, the --retry-errors rename, the manifest) goes through
/// the result, so a symlinked output keeps its link and its target gets the records. A path that
/// names no regular file (/dev/stdout, a folder, an unresolvable one) comes back unchanged, for
/// opening it to report on.
std::string resolve_output_path(const std::string& path);

}  // namespace promptpack::run
