#include "kitty/process/log_tail.h"

#include <algorithm>

namespace kitty {

namespace {
// A worker that prints megabytes without a newline must not grow memory without bound:
// a pending line longer than this is cut into a line of its own.
constexpr size_t kMaxLineBytes = 64 * 1024;
}  // namespace

void LogTail::append(std::string_view bytes) {
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    if (nl == std::string_view::npos) {
      pending_.append(bytes);
      bytes = {};
    } else {
      pending_.append(bytes.substr(0, nl));
      bytes.remove_prefix(nl + 1);
      if (!pending_.empty() && pending_.back() == '\r') pending_.pop_back();
      push(std::move(pending_));
      pending_.clear();
      continue;
    }
    while (pending_.size() >= kMaxLineBytes) {
      push(pending_.substr(0, kMaxLineBytes));
      pending_.erase(0, kMaxLineBytes);
    }
  }
}

void LogTail::finish() {
  if (pending_.empty()) return;
  if (pending_.back() == '\r') pending_.pop_back();
  push(std::move(pending_));
  pending_.clear();
}

void LogTail::push(std::string line) {
  lines_.push_back(std::move(line));
  ++total_;
  while (lines_.size() > max_lines_) lines_.pop_front();
  if (observer_) observer_(lines_.back());
}

std::vector<std::string> LogTail::last(size_t n) const {
  n = std::min(n, lines_.size());
  return std::vector<std::string>(lines_.end() - static_cast<std::ptrdiff_t>(n), lines_.end());
}

std::string LogTail::last_text(size_t n) const {
  std::string out;
  bool first = true;
  for (const std::string& line : last(n)) {
    if (!first) out += '\n';
    out += line;
    first = false;
  }
  return out;
}

void LogTail::mark_run(std::string_view header) {
  // A partial line left by the previous run belongs to that run.
  finish();
  if (!header.empty()) push(std::string(header));
  run_start_ = total_;
}

std::vector<std::string> LogTail::since(size_t from) const {
  size_t first_seq = total_ - lines_.size();  // sequence number of lines_.front()
  size_t start = std::max(from, first_seq);
  if (start >= total_) return {};
  return std::vector<std::string>(lines_.begin() + static_cast<std::ptrdiff_t>(start - first_seq),
                                  lines_.end());
}

std::vector<std::string> LogTail::current_run(size_t n) const {
  std::vector<std::string> run = since(run_start_);
  if (run.size() > n) run.erase(run.begin(), run.end() - static_cast<std::ptrdiff_t>(n));
  return run;
}

}  // namespace kitty
