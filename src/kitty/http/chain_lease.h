// A lease from a fallback chain (issue 10), for every route that serves a model: the model
// asked for, then its fallbacks, each tried while the ones before it are failed and waiting
// for a restart, or cannot start or fit (FallsBack). The OpenAI and Ollama routes share it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "kitty/http/control.h"

namespace kitty::web {

struct ChainLease {
  size_t index = 0;          // the chain's model that serves, when `lease` is set
  std::optional<Lease> lease;
  Error error;               // nobody could: the first model's error, with what each fallback said
  bool client_gone = false;  // the client left while a start was awaited (progress comments)
};

/// How a route waits for one model's lease (AcquireLease, or with progress comments).
using AcquireFn = std::function<net::awaitable<Result<Lease>>(std::shared_ptr<Worker>)>;

/// Tries `chain` in order with `acquire`; `client_gone` is asked after each wait. The caller
/// awaits it at once: the references live in its frame.
net::awaitable<ChainLease> LeaseFromChain(ControlExecutor control, const std::vector<std::shared_ptr<Worker>>& chain,
                                          const AcquireFn& acquire, const std::function<bool()>& client_gone);

}  // namespace kitty::web
