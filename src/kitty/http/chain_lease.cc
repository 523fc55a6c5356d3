#include "kitty/http/chain_lease.h"

#include <spdlog/spdlog.h>

#include "kitty/http/fallback.h"

namespace kitty::web {

net::awaitable<ChainLease> LeaseFromChain(ControlExecutor control, const std::vector<std::shared_ptr<Worker>>& chain,
                                          const AcquireFn& acquire, const std::function<bool()>& client_gone) {
  ChainLease out;
  std::optional<Error> first_error;
  std::string tried;  // "; fallback 'b': why" for each fallback that could not serve either
  for (size_t i = 0; i < chain.size(); ++i) {
    const std::shared_ptr<Worker> cand = chain[i];
    const bool last = i + 1 == chain.size();
    std::optional<Error> skip;
    if (!last) {
      // Failed and waiting for its restart (or given up): do not make the request wait for a
      // start that the restart policy would not do yet; the next model serves it.
      auto why_not = [cand] { return cand->unavailable(); };
      skip = co_await RunOn(control, why_not);
    }
    Result<Lease> lease = skip ? *skip : MakeError("", ErrorCode::kInternal);
    if (!skip) lease = co_await acquire(cand);
    if (client_gone && client_gone()) {
      out.index = i;
      out.client_gone = true;
      co_return out;
    }
    if (lease) {
      if (i > 0)
        spdlog::info("request for '{}' served by its fallback '{}' ({})", chain[0]->id(), cand->id(),
                     first_error ? first_error->message : "");
      out.index = i;
      out.lease.emplace(std::move(lease.value()));
      co_return out;
    }
    const Error& e = lease.error();
    if (!first_error) first_error = e;
    else tried += "; fallback '" + cand->id() + "': " + e.message;
    if (!last && FallsBack(e.code)) continue;
    break;
  }
  out.error = *first_error;
  out.error.message += tried;
  co_return out;
}

}  // namespace kitty::web
