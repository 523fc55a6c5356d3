// Free space of the filesystem that holds a path (the pressure monitor's disk check on the state
// and logs dirs). POSIX statvfs, the same on Linux and macOS. Synchronous, one system call: cheap
// enough for the sampler's pool job, but a hung network filesystem can block it, so keep it off
// the loop thread.
#pragma once

#include <cstdint>
#include <string>

#include "kitty/base/result.h"

namespace kitty {

/// Bytes an unprivileged process may still write on the filesystem holding `path` (f_bavail:
/// the blocks root keeps in reserve are not counted, since kittyd and its workers cannot use
/// them). Error kFileNotFound when `path` does not exist, kIoError otherwise; the message names
/// the path.
Result<uint64_t> FreeBytes(const std::string& path);

}  // namespace kitty
