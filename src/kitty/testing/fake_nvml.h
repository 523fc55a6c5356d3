// FakeNvml: builds fake_nvml.c into a shared library (once per process-list version per test
// process, with the C compiler in $CC, else `cc`), loads it, and scripts its answers. Give
// path() to NvmlGpuProbe: dlopen of the same path returns the same library, so the probe sees
// the script. The script is reset on construction; one FakeNvml per version at a time.
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "kitty/base/result.h"
#include "kitty/testing/temp_dir.h"

namespace kitty::testing_util {

class FakeNvml {
 public:
  /// `process_api`: the newest nvmlDeviceGetComputeRunningProcesses it exports (1, 2 or 3).
  static Result<std::unique_ptr<FakeNvml>> Load(int process_api = 3) {
    auto path = Build(process_api);
    if (!path.ok()) return path.error();
    void* lib = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!lib) return MakeError(std::string("dlopen: ") + dlerror());
    std::unique_ptr<FakeNvml> f(new FakeNvml(*path, lib));
    f->fn<void()>("fake_nvml_reset")();
    return f;
  }
  ~FakeNvml() { dlclose(lib_); }

  const std::string& path() const { return path_; }

  void set_init_result(int rc) { fn<void(int)>("fake_nvml_set_init_result")(rc); }
  int add_gpu(const char* name, unsigned long long total, unsigned long long used) {
    return fn<int(const char*, unsigned long long, unsigned long long)>("fake_nvml_add_gpu")(
        name, total, used);
  }
  void add_process(int gpu, unsigned pid, unsigned long long used) {
    fn<void(int, unsigned, unsigned long long)>("fake_nvml_add_process")(gpu, pid, used);
  }
  void set_handle_result(int gpu, int rc) {
    fn<void(int, int)>("fake_nvml_set_handle_result")(gpu, rc);
  }
  void set_memory_result(int gpu, int rc) {
    fn<void(int, int)>("fake_nvml_set_memory_result")(gpu, rc);
  }
  void set_process_result(int gpu, int rc) {
    fn<void(int, int)>("fake_nvml_set_process_result")(gpu, rc);
  }
  void set_v3_stride(unsigned stride) { fn<void(unsigned)>("fake_nvml_set_v3_stride")(stride); }
  int init_calls() { return fn<int()>("fake_nvml_init_calls")(); }
  int shutdown_calls() { return fn<int()>("fake_nvml_shutdown_calls")(); }
  int process_calls() { return fn<int()>("fake_nvml_process_calls")(); }

 private:
  FakeNvml(std::string path, void* lib) : path_(std::move(path)), lib_(lib) {}

  template <class F>
  F* fn(const char* name) {
    void* f = dlsym(lib_, name);
    if (!f) std::abort();  // the fixture and fake_nvml.c disagree: a test bug
    return reinterpret_cast<F*>(f);
  }

  static Result<std::string> Build(int process_api) {
    static TempDir dir;  // lives until the test process exits, with the built libraries
    static std::map<int, std::string> built;
    if (auto it = built.find(process_api); it != built.end()) return it->second;
    const char* cc = std::getenv("CC");
    const std::string out = dir.path() + "/libfake_nvml_v" + std::to_string(process_api) + ".so";
    const std::string cmd =
        std::string(cc && *cc ? cc : "cc") +
        " -shared -fPIC -O0 -DFAKE_NVML_PROCESS_API=" + std::to_string(process_api) + " -o " + out +
        " " KITTY_SOURCE_DIR "/src/kitty/testing/fake_nvml.c 2>&1";
    if (std::system(cmd.c_str()) != 0) return MakeError("cannot build the fake NVML: " + cmd);
    built[process_api] = out;
    return out;
  }

  std::string path_;
  void* lib_;
};

}  // namespace kitty::testing_util
