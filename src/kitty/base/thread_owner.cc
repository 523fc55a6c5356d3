#include "kitty/base/thread_owner.h"

#include <cstdio>
#include <cstdlib>

namespace kitty {

void ThreadOwner::Fail(const char* what) {
  std::fprintf(stderr, "kittyd: BUG: %s called off its owning thread\n", what);
  std::abort();
}

}  // namespace kitty
