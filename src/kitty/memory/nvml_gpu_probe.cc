#include "kitty/memory/nvml_gpu_probe.h"

#include <dlfcn.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace kitty {

// The NVML API as documented by NVIDIA (NVML API Reference Guide), declared here so that
// kittyd builds without the CUDA toolkit. Only what is used.
namespace {

using NvmlReturn = int;  // nvmlReturn_t, a C enum
struct NvmlDeviceSt;     // opaque
using NvmlDevice = NvmlDeviceSt*;

// nvmlMemory_t (the version taken by the unversioned nvmlDeviceGetMemoryInfo).
struct NvmlMemory {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
};

constexpr NvmlReturn kSuccess = 0;
constexpr NvmlReturn kErrorInsufficientSize = 7;
constexpr NvmlReturn kErrorDriverNotLoaded = 9;
constexpr NvmlReturn kErrorLibraryNotFound = 12;
constexpr unsigned long long kValueNotAvailable = ~0ull;  // NVML_VALUE_NOT_AVAILABLE
constexpr unsigned kNameBufferSize = 96;                  // NVML_DEVICE_NAME_V2_BUFFER_SIZE

// Every entry layout starts the same: unsigned int pid, then (aligned to 8) unsigned long long
// usedGpuMemory. Only the entry size differs (see DecodeProcessInfos).
constexpr size_t kPidOffset = 0;
constexpr size_t kUsedOffset = 8;
constexpr size_t kStrideV1 = 16;    // nvmlProcessInfo_v1_t: pid, usedGpuMemory
constexpr size_t kStrideV2 = 24;    // nvmlProcessInfo_v2_t: + gpuInstanceId, computeInstanceId
constexpr size_t kStrideR535 = 32;  // R535's _v3: + usedGpuCcProtectedMemory
// Linux's PID_MAX_LIMIT on 64-bit: no real pid is larger.
constexpr unsigned kPidMaxLimit = 4u << 20;
// A device with more compute processes than this is a garbled count, not a real list.
constexpr unsigned kMaxProcesses = 1u << 14;

}  // namespace

struct NvmlGpuProbe::Api {
  void* lib = nullptr;
  NvmlReturn (*init)() = nullptr;                                   // nvmlInit_v2
  NvmlReturn (*shutdown)() = nullptr;                               // nvmlShutdown
  NvmlReturn (*device_count)(unsigned*) = nullptr;                  // nvmlDeviceGetCount_v2
  NvmlReturn (*device_at)(unsigned, NvmlDevice*) = nullptr;         // nvmlDeviceGetHandleByIndex_v2
  NvmlReturn (*name)(NvmlDevice, char*, unsigned) = nullptr;        // nvmlDeviceGetName
  NvmlReturn (*memory)(NvmlDevice, NvmlMemory*) = nullptr;          // nvmlDeviceGetMemoryInfo
  NvmlReturn (*processes)(NvmlDevice, unsigned*, void*) = nullptr;  // ...ComputeRunningProcesses*
  const char* (*error_string)(NvmlReturn) = nullptr;                // nvmlErrorString
  std::string process_symbol;
  size_t process_stride = 0;

  std::string describe(NvmlReturn rc) const {
    const char* s = error_string ? error_string(rc) : nullptr;
    return std::string(s ? s : "NVML error") + " (" + std::to_string(rc) + ")";
  }
};

namespace nvml {
namespace {

bool Plausible(const unsigned char* buf, size_t buf_bytes, unsigned count, size_t stride,
               uint64_t total, std::vector<ProcessUse>* out) {
  if (static_cast<size_t>(count) * stride > buf_bytes) return false;
  out->clear();
  for (unsigned i = 0; i < count; ++i) {
    const unsigned char* e = buf + static_cast<size_t>(i) * stride;
    uint32_t pid;
    uint64_t used;
    std::memcpy(&pid, e + kPidOffset, sizeof pid);
    std::memcpy(&used, e + kUsedOffset, sizeof used);
    const bool known = used != kValueNotAvailable;
    if (pid == 0 || pid > kPidMaxLimit) return false;
    if (known && total > 0 && used > total) return false;
    out->push_back({pid, known ? used : 0, known});
  }
  return true;
}

}  // namespace

// Why more than one entry size: nvmlDeviceGetComputeRunningProcesses_v3 is documented to
// write nvmlProcessInfo_t, laid out like v2 (24 bytes), but R535 drivers (CUDA 12.2) wrote a
// 32-byte entry with usedGpuCcProtectedMemory appended, without a version bump, and later
// drivers went back to 24 (nvitop#79, pynvml#48 and go-nvml#75 report the scrambled pids).
// The buffer has room for 32-byte entries, so no layout can write past it; pid and size sit at
// the same offsets in every layout, so the first entry always reads right. For the others,
// the documented size is tried first and another one only when its decoding is implausible:
// pid 0 or beyond Linux's limit (a misaligned read lands on a padding, a size or the fill
// bytes), or a size beyond the GPU's memory.
Result<std::vector<ProcessUse>> DecodeProcessInfos(const unsigned char* buf, size_t buf_bytes,
                                                   unsigned count, size_t documented_stride,
                                                   uint64_t device_total_bytes) {
  std::vector<ProcessUse> out;
  for (size_t stride : {documented_stride, kStrideV2, kStrideR535, kStrideV1})
    if (Plausible(buf, buf_bytes, count, stride, device_total_bytes, &out)) return out;
  return MakeError(
      "cannot decode " + std::to_string(count) + " GPU process entries in any known layout",
      ErrorCode::kIoError);
}

}  // namespace nvml

NvmlGpuProbe::NvmlGpuProbe(std::string library) : library_(std::move(library)) {}

NvmlGpuProbe::~NvmlGpuProbe() {
  if (!api_) return;
  api_->shutdown();
  dlclose(api_->lib);
}

std::string NvmlGpuProbe::process_api() const {
  std::lock_guard lock(mu_);
  return api_ ? api_->process_symbol : std::string();
}

void NvmlGpuProbe::open_locked() {
  tried_ = true;
  void* lib = dlopen(library_.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* why = dlerror();
    spdlog::debug("no NVIDIA driver ({}): no GPU figures", why ? why : library_);
    return;
  }
  auto api = std::make_unique<Api>();
  api->lib = lib;
  auto sym = [lib](const char* name) { return dlsym(lib, name); };
  api->init = reinterpret_cast<decltype(api->init)>(sym("nvmlInit_v2"));
  api->shutdown = reinterpret_cast<decltype(api->shutdown)>(sym("nvmlShutdown"));
  api->device_count = reinterpret_cast<decltype(api->device_count)>(sym("nvmlDeviceGetCount_v2"));
  api->device_at = reinterpret_cast<decltype(api->device_at)>(sym("nvmlDeviceGetHandleByIndex_v2"));
  api->name = reinterpret_cast<decltype(api->name)>(sym("nvmlDeviceGetName"));
  api->memory = reinterpret_cast<decltype(api->memory)>(sym("nvmlDeviceGetMemoryInfo"));
  api->error_string = reinterpret_cast<decltype(api->error_string)>(sym("nvmlErrorString"));
  // The newest process list first; each version is documented with its own entry layout.
  const std::pair<const char*, size_t> versions[] = {
      {"nvmlDeviceGetComputeRunningProcesses_v3", kStrideV2},
      {"nvmlDeviceGetComputeRunningProcesses_v2", kStrideV2},
      {"nvmlDeviceGetComputeRunningProcesses", kStrideV1}};
  for (const auto& [name, stride] : versions)
    if (void* f = sym(name)) {
      api->processes = reinterpret_cast<decltype(api->processes)>(f);
      api->process_symbol = name;
      api->process_stride = stride;
      break;
    }
  if (!api->init || !api->shutdown || !api->device_count || !api->device_at || !api->memory) {
    spdlog::warn("{} lacks the NVML functions kittyd needs (driver too old?): no GPU figures",
                 library_);
    dlclose(lib);
    return;
  }
  NvmlReturn rc = api->init();
  if (rc != kSuccess) {
    // The library ships with the user-space driver package; the kernel module may still be
    // missing (a container without the GPU passed through): that is "no driver" too.
    if (rc == kErrorDriverNotLoaded || rc == kErrorLibraryNotFound)
      spdlog::debug("no NVIDIA driver ({}): no GPU figures", api->describe(rc));
    else
      spdlog::warn("NVML failed to initialise: {}: no GPU figures", api->describe(rc));
    dlclose(lib);
    return;
  }
  if (!api->processes)
    spdlog::warn("{} has no nvmlDeviceGetComputeRunningProcesses: no GPU figures per worker",
                 library_);
  api_ = std::move(api);
}

namespace {

Result<std::vector<nvml::ProcessUse>> ListProcesses(const NvmlGpuProbe::Api& api, NvmlDevice d,
                                                    uint64_t total) {
  unsigned capacity = 32;
  for (int attempt = 0; attempt < 5; ++attempt) {
    // `capacity` entries of the largest layout: the driver, told `capacity`, cannot overrun.
    std::vector<unsigned char> buf(capacity * nvml::kMaxStride, nvml::kFill);
    unsigned count = capacity;
    NvmlReturn rc = api.processes(d, &count, buf.data());
    if (rc == kErrorInsufficientSize && count > capacity && count <= kMaxProcesses) {
      // Processes start between two calls: leave room for a few more than asked for.
      capacity = count + 16;
      continue;
    }
    if (rc != kSuccess)
      return MakeError(api.process_symbol + ": " + api.describe(rc), ErrorCode::kIoError);
    if (count > capacity)
      return MakeError(api.process_symbol + " returned more entries than asked for",
                       ErrorCode::kIoError);
    return nvml::DecodeProcessInfos(buf.data(), buf.size(), count, api.process_stride, total);
  }
  return MakeError(api.process_symbol + ": the process list kept growing", ErrorCode::kIoError);
}

}  // namespace

Result<GpuReading> NvmlGpuProbe::read() {
  std::lock_guard lock(mu_);
  if (!tried_) open_locked();
  GpuReading out;
  if (!api_) return out;
  unsigned n = 0;
  if (NvmlReturn rc = api_->device_count(&n); rc != kSuccess)
    return MakeError("nvmlDeviceGetCount_v2: " + api_->describe(rc), ErrorCode::kIoError);
  out.per_process = n > 0 && api_->processes != nullptr;
  std::vector<std::string> problems;
  for (unsigned i = 0; i < n; ++i) {
    NvmlDevice d = nullptr;
    NvmlMemory mem{};
    if (NvmlReturn rc = api_->device_at(i, &d); rc != kSuccess) {
      // A GPU fallen off the bus, or one we may not open: the others still count.
      problems.push_back("GPU " + std::to_string(i) + ": " + api_->describe(rc));
      out.per_process = false;
      continue;
    }
    if (NvmlReturn rc = api_->memory(d, &mem); rc != kSuccess) {
      // Not every GPU reports its memory (integrated ones answer NOT_SUPPORTED): without a
      // total it is left out of the list, but what its processes use still counts.
      problems.push_back("GPU " + std::to_string(i) + " memory: " + api_->describe(rc));
      mem = NvmlMemory{};
    } else {
      GpuMemory g;
      g.index = static_cast<int>(i);
      g.total_bytes = mem.total;
      g.used_bytes = mem.used;
      char name[kNameBufferSize] = {};
      if (api_->name && api_->name(d, name, sizeof name) == kSuccess) g.name = name;
      out.gpus.push_back(std::move(g));
    }
    if (!api_->processes) continue;
    auto procs = ListProcesses(*api_, d, mem.total);
    if (!procs.ok()) {
      // NVML_ERROR_NO_PERMISSION is usual for a MIG parent device without privilege.
      problems.push_back("GPU " + std::to_string(i) + " processes: " + procs.error().message);
      out.per_process = false;
      continue;
    }
    for (const auto& p : *procs) {
      const int pid = static_cast<int>(p.pid);
      if (p.used_known)
        out.used_by_pid[pid] += p.used_bytes;
      else
        out.unknown_pids.insert(pid);
    }
  }
  // Said once per change, not every sample: a lost GPU stays lost for a while.
  std::string problem;
  for (const auto& p : problems) problem += (problem.empty() ? "" : "; ") + p;
  if (problem != last_problem_ && !problem.empty())
    spdlog::warn("NVML: {} (figures of the others still count)", problem);
  last_problem_ = std::move(problem);
  if (n == 0 && !said_no_gpu_) {
    spdlog::debug("NVML: no NVIDIA GPU: no GPU figures");
    said_no_gpu_ = true;
  }
  return out;
}

}  // namespace kitty
