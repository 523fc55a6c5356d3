// FootprintStore: learned footprints, the measured peak memory of earlier runs, persisted in
// the state dir (seed 002's persisted hints) so that the next load of the same model, in this
// daemon or the next one, is planned on a measurement instead of an estimate (issue 9, item 3).
//
// A footprint is keyed by what changes a worker's memory (FootprintKey): the model file (path,
// size, modification time), the mmproj file likewise, the engine binary likewise, and the
// flags that size buffers. Change any of them and the learned figure no longer applies.
// Each key keeps the peaks of its last few runs with the wall time each was recorded; a peak
// older than 24 h is stale (seed 002's cutoff) and dropped; Lookup answers the largest fresh
// one, so one run with little traffic does not hide the peak of a busier one the same day.
//
// File: <state_dir>/footprints.json, rewritten whole and atomically (FileSystem):
//   {"version": 1, "entries": [{"key": {...FootprintKey...},
//                               "runs": [{"peak_bytes": N, "recorded_at_ms": T}, ...]}]}
// A missing file is an empty store; an unreadable or corrupt one is logged and ignored (the
// next save replaces it), never fatal.
//
// Threads: one owner (the daemon's control loop); not thread-safe. load() and save() do
// blocking file I/O: call them on the blocking pool while the owner does not touch the store,
// or take snapshot() on the owner's thread and hand the text to WriteSnapshot() on the pool.
// Times are wall-clock (they must survive a restart); they are passed in, so tests choose them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kitty/base/clock.h"
#include "kitty/base/file_system.h"
#include "kitty/base/result.h"
#include "kitty/config/config.h"

namespace kitty {

/// A file's identity without reading it: path, size and modification time. A rewritten or
/// replaced file (a new download, a rebuilt engine) gets a new identity.
struct FileStamp {
  std::string path;
  uint64_t size_bytes = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileStamp&) const = default;
};

/// stat() of `path` (blocking, cheap). Error code kFileNotFound or kIoError.
Result<FileStamp> StampFile(const std::string& path);

/// What a learned footprint is valid for.
struct FootprintKey {
  std::string backend;  // BackendName(): "llama_server", "command", "ollama"
  FileStamp model;      // the model file; empty path when the model has none
  FileStamp mmproj;     // empty path when none
  FileStamp engine;     // the llama-server binary (or the command's argv[0]); empty if unknown
  // The settings that size memory, as configured (absent = the engine's default).
  std::optional<int> ctx, parallel, batch, ubatch, ngl;
  std::optional<bool> flash_attn;
  std::vector<std::string> extra_args;  // verbatim: cache types, --cache-ram, -kvu, ...
  std::vector<std::string> command;     // the command backend's argv template
  std::map<std::string, std::string> engine_env;  // the model's LLAMA_* and GGML_* variables
  bool operator==(const FootprintKey&) const = default;

  /// One canonical string for the key (compact JSON, fixed field order): equal keys give
  /// equal strings, and the string is what the store indexes by.
  std::string canonical() const;
};

/// The key for model `m` from the stamps of its files (taken by the caller with StampFile,
/// off the loop: it is disk I/O). Host, port, threads, alias, jinja and the rest of `env` are
/// left out: they do not change memory enough to invalidate a measurement.
FootprintKey MakeFootprintKey(const ModelConfig& m, const FileStamp& model, const FileStamp& mmproj,
                              const FileStamp& engine);

class FootprintStore {
 public:
  static constexpr std::chrono::hours kStaleAfter{24};  // seed 002
  static constexpr size_t kRunsPerKey = 4;
  static constexpr size_t kMaxKeys = 512;  // the least recently recorded go first
  static constexpr size_t kMaxFileBytes = 4 << 20;

  /// Nothing is read until load(). `path` is usually <state_dir>/footprints.json.
  explicit FootprintStore(std::string path, FileSystem& fs = RealFileSystem());

  /// Replaces the contents with the file's, dropping runs older than kStaleAfter at `now`.
  /// A missing file gives an empty store. A corrupt or unreadable file is logged (warning,
  /// with the path and what is wrong) and gives an empty store; the returned Status says the
  /// same for callers that want it, but nothing needs to stop. Blocking.
  Status load(WallTime now);

  /// Records the measured peak of one run of `key`, recorded at `now`. Call it once per run
  /// (when the worker stops, with its peak). A peak of 0 is ignored.
  void Record(const FootprintKey& key, uint64_t peak_bytes, WallTime now);

  /// The largest peak recorded for `key` within kStaleAfter of `now`; nullopt when none.
  std::optional<uint64_t> Lookup(const FootprintKey& key, WallTime now) const;

  /// Forgets `key` (a model whose learned figure an operator wants to reset).
  void Forget(const FootprintKey& key);

  /// Writes the whole store atomically. Blocking. Equivalent to
  /// WriteSnapshot(fs, path(), snapshot()).
  Status save() const;

  /// The file's text for the current contents (cheap; no I/O), for WriteSnapshot on the pool.
  std::string snapshot() const;
  static Status WriteSnapshot(FileSystem& fs, const std::string& path, const std::string& text);

  const std::string& path() const { return path_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Run {
    uint64_t peak_bytes = 0;
    int64_t recorded_at_ms = 0;  // Unix time
  };
  struct Entry {
    FootprintKey key;
    std::vector<Run> runs;  // oldest first, at most kRunsPerKey
  };

  std::string path_;
  FileSystem& fs_;
  std::map<std::string, Entry> entries_;  // by FootprintKey::canonical()
};

}  // namespace kitty
