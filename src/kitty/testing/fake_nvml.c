/* A fake NVML for nvml_gpu_probe_test.cc: a tiny shared library that exports the few NVML
 * functions kittyd looks up, answering from a script the test writes through the fake_nvml_*
 * functions (the test dlopens the same path, so both see one copy of the state).
 *
 * C, not C++, and outside every CMake glob (*.cc): the test compiles it itself at run time,
 * once per process-list version, with -DFAKE_NVML_PROCESS_API=1, 2 or 3 (the newest
 * nvmlDeviceGetComputeRunningProcesses entry point it exports).
 *
 * Layouts follow NVIDIA's documented structs: entries are written as whole structs (padding
 * zeroed), as a driver copying its own structs would. */
#include <stdint.h>
#include <string.h>

#ifndef FAKE_NVML_PROCESS_API
#define FAKE_NVML_PROCESS_API 3
#endif

#define MAX_GPUS 8
#define MAX_PROCS 256

struct fake_proc {
  unsigned pid;
  unsigned long long used;
};

struct fake_gpu {
  char name[96];
  unsigned long long total, used;
  int handle_result, memory_result, process_result;
  unsigned nproc;
  struct fake_proc procs[MAX_PROCS];
};

static struct fake_gpu gpus[MAX_GPUS];
static unsigned ngpus;
static int init_result, init_calls, shutdown_calls, process_calls;
static unsigned v3_stride = 24;

/* ---- the script ---- */

void fake_nvml_reset(void) {
  memset(gpus, 0, sizeof gpus);
  ngpus = 0;
  init_result = init_calls = shutdown_calls = process_calls = 0;
  v3_stride = 24;
}
void fake_nvml_set_init_result(int rc) { init_result = rc; }
int fake_nvml_add_gpu(const char* name, unsigned long long total, unsigned long long used) {
  struct fake_gpu* g = &gpus[ngpus];
  strncpy(g->name, name, sizeof g->name - 1);
  g->total = total;
  g->used = used;
  return (int)ngpus++;
}
void fake_nvml_add_process(int gpu, unsigned pid, unsigned long long used) {
  struct fake_gpu* g = &gpus[gpu];
  g->procs[g->nproc].pid = pid;
  g->procs[g->nproc].used = used;
  g->nproc++;
}
void fake_nvml_set_handle_result(int gpu, int rc) { gpus[gpu].handle_result = rc; }
void fake_nvml_set_memory_result(int gpu, int rc) { gpus[gpu].memory_result = rc; }
void fake_nvml_set_process_result(int gpu, int rc) { gpus[gpu].process_result = rc; }
/* 24: the documented _v3 entry; 32: R535's, with usedGpuCcProtectedMemory appended. */
void fake_nvml_set_v3_stride(unsigned stride) { v3_stride = stride; }
int fake_nvml_init_calls(void) { return init_calls; }
int fake_nvml_shutdown_calls(void) { return shutdown_calls; }
int fake_nvml_process_calls(void) { return process_calls; }

/* ---- NVML ---- */

struct memory_v1 {
  unsigned long long total, free, used;
};
struct info_v1 {
  unsigned pid;
  unsigned long long used;
};
struct info_v2 {
  unsigned pid;
  unsigned long long used;
  unsigned gpu_instance, compute_instance;
};
struct info_r535 {
  unsigned pid;
  unsigned long long used;
  unsigned gpu_instance, compute_instance;
  unsigned long long cc_protected;
};

int nvmlInit_v2(void) {
  ++init_calls;
  return init_result;
}
int nvmlShutdown(void) {
  ++shutdown_calls;
  return 0;
}
int nvmlDeviceGetCount_v2(unsigned* n) {
  *n = ngpus;
  return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned i, void** handle) {
  if (i >= ngpus) return 2; /* NVML_ERROR_INVALID_ARGUMENT */
  if (gpus[i].handle_result) return gpus[i].handle_result;
  *handle = &gpus[i];
  return 0;
}
int nvmlDeviceGetName(void* handle, char* name, unsigned length) {
  struct fake_gpu* g = handle;
  if (strlen(g->name) >= length) return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  strcpy(name, g->name);
  return 0;
}
int nvmlDeviceGetMemoryInfo(void* handle, struct memory_v1* m) {
  struct fake_gpu* g = handle;
  if (g->memory_result) return g->memory_result;
  m->total = g->total;
  m->used = g->used;
  m->free = g->total - g->used;
  return 0;
}

static int list(void* handle, unsigned* count, void* infos, unsigned stride) {
  struct fake_gpu* g = handle;
  unsigned i;
  ++process_calls;
  if (g->process_result) return g->process_result;
  if (*count < g->nproc) {
    *count = g->nproc;
    return 7; /* NVML_ERROR_INSUFFICIENT_SIZE */
  }
  for (i = 0; i < g->nproc; ++i) {
    struct info_r535 e;
    memset(&e, 0, sizeof e);
    e.pid = g->procs[i].pid;
    e.used = g->procs[i].used;
    e.gpu_instance = e.compute_instance = 0xFFFFFFFFu; /* MIG off */
    memcpy((char*)infos + (size_t)i * stride, &e, stride);
  }
  *count = g->nproc;
  return 0;
}

int nvmlDeviceGetComputeRunningProcesses(void* h, unsigned* count, void* infos) {
  return list(h, count, infos, sizeof(struct info_v1));
}
#if FAKE_NVML_PROCESS_API >= 2
int nvmlDeviceGetComputeRunningProcesses_v2(void* h, unsigned* count, void* infos) {
  return list(h, count, infos, sizeof(struct info_v2));
}
#endif
#if FAKE_NVML_PROCESS_API >= 3
int nvmlDeviceGetComputeRunningProcesses_v3(void* h, unsigned* count, void* infos) {
  return list(h, count, infos, v3_stride);
}
#endif

const char* nvmlErrorString(int rc) {
  switch (rc) {
    case 0:
      return "Success";
    case 4:
      return "Insufficient Permissions";
    case 9:
      return "Driver Not Loaded";
    case 15:
      return "GPU is lost";
    default:
      return "Unknown Error";
  }
}
