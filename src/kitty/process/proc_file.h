// Reads a small kernel-made file whole (/proc, cgroupfs) without exceptions. Such a file can fail
// mid-read with ESRCH when its process exits; libstdc++'s filebuf throws from underflow then,
// whatever the stream's exception mask, and an istreambuf_iterator lets it through: a worker
// that exited while kittyd read its /proc files killed kittyd (std::__ios_failure, "No such
// process"). POSIX open/read: usable from every platform's files.
#pragma once

#include <optional>
#include <string>

namespace kitty {

/// The file's bytes (at most `max_bytes`), or nullopt when it cannot be opened or read.
std::optional<std::string> ReadProcFile(const std::string& path, size_t max_bytes = 4u << 20);

}  // namespace kitty
