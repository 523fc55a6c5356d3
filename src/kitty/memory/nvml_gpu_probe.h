// NvmlGpuProbe: GPU memory on NVIDIA through NVML, the driver's own management library,
// opened with dlopen on first use. kittyd neither links against it nor needs its header: the
// few functions used are declared in nvml_gpu_probe.cc from NVIDIA's documented API. Without
// the library (no driver) or without a GPU every reading is empty, said once in the debug log.
//
// Thread-safe (one mutex around each reading); blocking (the first reading initialises the
// driver library, which can take a second): call it from the blocking pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kitty/memory/gpu_probe.h"

namespace kitty {

class NvmlGpuProbe : public GpuProbe {
 public:
  static constexpr const char* kLibrary = "libnvidia-ml.so.1";

  /// `library`: what dlopen is given, a soname or a path (tests load a fake by path).
  explicit NvmlGpuProbe(std::string library = kLibrary);
  ~NvmlGpuProbe() override;  // nvmlShutdown and dlclose, if opened
  Result<GpuReading> read() override;

  /// Which process-list entry point the library offered ("..._v3", "..._v2" or the
  /// unversioned v1); empty before the first reading or without NVML. For tests and logs.
  std::string process_api() const;

  struct Api;  // the resolved entry points (nvml_gpu_probe.cc)

 private:
  void open_locked();

  mutable std::mutex mu_;
  const std::string library_;
  bool tried_ = false;        // open once: a missing driver does not appear later
  std::unique_ptr<Api> api_;  // null: no NVML (or it failed to initialise)
  std::string last_problem_;  // the last warning, so that a lasting fault is logged once
  bool said_no_gpu_ = false;
};

namespace nvml {

/// One entry of nvmlDeviceGetComputeRunningProcesses, whatever its layout.
struct ProcessUse {
  unsigned pid = 0;
  uint64_t used_bytes = 0;
  bool used_known = false;  // NVML_VALUE_NOT_AVAILABLE (e.g. Windows WDDM) leaves it unknown
};

/// Decodes `count` entries written by the driver into `buf` (`buf_bytes` long, filled with
/// kFill before the call). `documented_stride` is the entry size the called version is
/// documented to write; other known sizes are tried when its decoding is implausible
/// (nvml_gpu_probe.cc says why). Error when no entry size decodes plausibly.
Result<std::vector<ProcessUse>> DecodeProcessInfos(const unsigned char* buf, size_t buf_bytes,
                                                   unsigned count, size_t documented_stride,
                                                   uint64_t device_total_bytes);

/// Byte the process buffer is filled with before the driver writes it: a pid or a size made
/// of it is implausible, so bytes the driver did not write are recognised.
inline constexpr unsigned char kFill = 0xA5;
/// The largest entry any version has written (R535's 32-byte _v3 entries).
inline constexpr size_t kMaxStride = 32;

}  // namespace nvml
}  // namespace kitty
