// The watchdog's wire protocol (watchdog.h) and the watchdog's side of the state: what kittyd
// writes into the channel, and how the watchdog reads it into its table of process groups.
//
// One message per line, ASCII: "+<pgid>\n" registers a process group, "-<pgid>\n" forgets it.
// A line may arrive split over any number of reads. A malformed line is skipped up to its
// '\n', and a pgid below 2 is ignored: kill(-1, ...) would signal every process we may signal,
// and 0 and 1 are never worker groups. The watchdog must never kill a group it was not told
// about.
//
// The watchdog is a fork() of kittyd that never exec's, and kittyd may have threads when it
// forks one (a replacement, see watchdog.h): so the code the watchdog runs from here is
// allocation-free, lock-free and makes no library calls (async-signal-safe).
#pragma once

#include <cstddef>

namespace kitty::watchdog_protocol {

/// The most process groups one watchdog tracks. kittyd refuses to register more (one group per
/// running worker: this is far beyond any machine's worth of models).
inline constexpr int kMaxGroups = 4096;

/// Longest message: sign, 10 digits of a positive int, '\n'.
inline constexpr int kMaxLine = 12;

/// Writes "+pgid\n" (op '+') or "-pgid\n" (op '-') into `out` (kMaxLine bytes); returns the
/// length. `pgid` must be positive.
inline int Encode(char op, int pgid, char* out) {
  char digits[10];
  int n = 0;
  unsigned v = static_cast<unsigned>(pgid);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && n < 10);
  int len = 0;
  out[len++] = op;
  while (n > 0) out[len++] = digits[--n];
  out[len++] = '\n';
  return len;
}

/// The registered groups: a fixed array, because the watchdog may not allocate.
class GroupTable {
 public:
  /// False when the table is full (the group is then NOT registered). Adding a group twice
  /// keeps one entry.
  bool add(int pgid) {
    if (contains(pgid)) return true;
    if (count_ == kMaxGroups) return false;
    groups_[count_++] = pgid;
    return true;
  }
  void remove(int pgid) {
    for (int i = 0; i < count_; ++i) {
      if (groups_[i] == pgid) {
        groups_[i] = groups_[--count_];
        return;
      }
    }
  }
  bool contains(int pgid) const {
    for (int i = 0; i < count_; ++i)
      if (groups_[i] == pgid) return true;
    return false;
  }
  int size() const { return count_; }
  int operator[](int i) const { return groups_[i]; }

 private:
  int groups_[kMaxGroups];
  int count_ = 0;
};

/// Turns the byte stream into table updates, keeping a half-read line between reads.
class LineReader {
 public:
  /// Applies every complete line in data[0, n). Returns false if some registration was
  /// refused because the table is full (kittyd enforces kMaxGroups, so only a bug gets there).
  bool feed(const char* data, size_t n, GroupTable& table) {
    bool all_fit = true;
    for (size_t i = 0; i < n; ++i) {
      const char c = data[i];
      if (c == '\n') {
        if (state_ == kNumber && digits_ > 0 && value_ >= 2) {
          if (op_ == '+') {
            all_fit = table.add(static_cast<int>(value_)) && all_fit;
          } else {
            table.remove(static_cast<int>(value_));
          }
        }
        state_ = kStart;
        continue;
      }
      switch (state_) {
        case kStart:
          if (c == '+' || c == '-') {
            op_ = c;
            value_ = 0;
            digits_ = 0;
            state_ = kNumber;
          } else {
            state_ = kSkip;
          }
          break;
        case kNumber:
          // A pid is at most 10 digits and fits an int; anything longer is not one of ours.
          if (c >= '0' && c <= '9' && digits_ < 10) {
            value_ = value_ * 10 + (c - '0');
            ++digits_;
            if (value_ > 2147483647LL) state_ = kSkip;
          } else {
            state_ = kSkip;
          }
          break;
        case kSkip:
          break;
      }
    }
    return all_fit;
  }

 private:
  enum State { kStart, kNumber, kSkip };
  State state_ = kStart;
  char op_ = 0;
  long long value_ = 0;
  int digits_ = 0;
};

}  // namespace kitty::watchdog_protocol
