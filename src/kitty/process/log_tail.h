// LogTail: the last lines a worker printed, kept in memory for error messages and the logs
// API. Owned (shared) by the worker; appended to by the spawner and read on the control
// thread only.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace kitty {

class LogTail {
 public:
  explicit LogTail(size_t max_lines = 1000) : max_lines_(max_lines) {}

  /// Appends raw output; splits it into lines (a trailing partial line is kept pending).
  void append(std::string_view bytes);
  /// Flushes a pending partial line (at EOF).
  void finish();
  /// The last `n` complete lines, oldest first.
  std::vector<std::string> last(size_t n) const;
  /// The last `n` lines joined with '\n', for error messages.
  std::string last_text(size_t n) const;
  /// Marks the start of a new run of the worker, so errors show only the current run's lines.
  void mark_run(std::string_view header);
  /// Lines since the last mark_run(), at most n.
  std::vector<std::string> current_run(size_t n) const;
  /// Total lines ever appended (a cursor for `logs -f`).
  size_t total() const { return total_; }
  /// Lines with sequence number >= `from` still in memory (for following).
  std::vector<std::string> since(size_t from) const;
  /// Called with every complete line as it arrives (the Worker watches a starting engine's
  /// output for "listening"/"loaded" to probe at once). Null to stop.
  void set_line_observer(std::function<void(const std::string&)> fn) { observer_ = std::move(fn); }

 private:
  void push(std::string line);
  size_t max_lines_;
  std::deque<std::string> lines_;
  std::string pending_;
  size_t total_ = 0;      // lines ever pushed
  size_t run_start_ = 0;  // sequence number of the first line of the current run
  std::function<void(const std::string&)> observer_;
};

}  // namespace kitty
