// Parsing of /proc/PID/stat (Linux only; include only from *_linux.cc files).
#pragma once

#include <cstdint>
#include <string>

#include "kitty/base/result.h"

namespace kitty {

struct ProcStat {
  int pid = 0;
  std::string comm;
  char state = '?';
  int ppid = 0;
  int pgrp = 0;
  uint64_t start_time = 0;  // field 22, clock ticks since boot
  uint64_t rss_pages = 0;   // field 24
};

/// Parses the text of /proc/PID/stat. comm (field 2) may contain spaces and ')', so the
/// fields after it are found from the LAST ')'.
Result<ProcStat> ParseProcStat(const std::string& text);

/// Reads and parses /proc/PID/stat.
Result<ProcStat> ReadProcStat(int pid);

}  // namespace kitty
