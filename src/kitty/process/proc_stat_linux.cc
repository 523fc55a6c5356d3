#include "kitty/process/proc_stat_linux.h"

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "kitty/process/proc_file.h"

namespace kitty {

Result<ProcStat> ParseProcStat(const std::string& text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open)
    return MakeError("malformed /proc stat line");
  ProcStat st;
  st.pid = atoi(text.c_str());
  st.comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::vector<std::string> f;  // f[0] is field 3 (state)
  std::string tok;
  while (rest >> tok) f.push_back(tok);
  if (f.size() < 22) return MakeError("short /proc stat line");
  st.state = f[0].empty() ? '?' : f[0][0];
  st.ppid = atoi(f[1].c_str());
  st.pgrp = atoi(f[2].c_str());
  st.start_time = strtoull(f[19].c_str(), nullptr, 10);
  st.rss_pages = strtoull(f[21].c_str(), nullptr, 10);
  return st;
}

Result<ProcStat> ReadProcStat(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  auto text = ReadProcFile(path);
  if (!text) return MakeError("cannot read " + path + ": " + strerror(errno), ErrorCode::kFileNotFound);
  if (text->empty()) return MakeError("cannot read " + path, ErrorCode::kFileNotFound);
  return ParseProcStat(*text);
}

}  // namespace kitty
