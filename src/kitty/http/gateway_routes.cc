// The OpenAI-compatible routes of the Gateway.
#include <spdlog/spdlog.h>

#include "kitty/http/async_worker.h"
#include "kitty/http/errors.h"
#include "kitty/http/gateway.h"
#include "kitty/http/model_field.h"

namespace kitty::web {

net::awaitable<void> Gateway::proxy_inference(Exchange& ex) {
  if (shutting_down_)
    co_return reply_error(ex, MakeError("kittyd is shutting down", ErrorCode::kShuttingDown));
  auto model = ReadModelField(ex.req.body());
  if (!model) co_return reply_error(ex, model.error());
  auto w = deps_.manager->find(*model);
  if (!w) {
    nlohmann::json body_ = {{"available", deps_.manager->model_ids()}};
    co_return reply_error(ex, deps_.manager->not_found(*model), body_);
  }
  if (deps_.server.log_bodies)
    spdlog::info("request to '{}' {}: {}", w->id(), std::string(ex.req.target()), ex.req.body());

  auto lease = co_await AsyncAcquire(*w, net::use_awaitable);
  if (!lease) co_return reply_error(ex, lease.error(), start_error_extra(*w, lease.error()));
  co_await ProxyToWorker(ex, lease.value(), pool_, w->id());
}

net::awaitable<void> Gateway::list_models(Exchange& ex) {
  nlohmann::json data = nlohmann::json::array();
  const auto created =
      std::chrono::duration_cast<std::chrono::seconds>(deps_.clock->wall_now().time_since_epoch())
          .count();
  for (const auto& w : deps_.manager->workers()) {
    const ModelConfig& c = w->config();
    nlohmann::json aliases = c.aliases;
    if (!c.alias.empty()) aliases.push_back(c.alias);
    data.push_back({{"id", c.id},
                    {"object", "model"},
                    {"created", created},
                    {"owned_by", "kitty"},
                    {"status", WorkerStateName(w->state())},
                    {"aliases", aliases},
                    {"backend", BackendName(c.backend)},
                    {"gguf", deps_.model_info ? deps_.model_info(c) : nlohmann::json(nullptr)}});
  }
  {
    nlohmann::json body_ = {{"object", "list"}, {"data", data}};
    reply(ex, 200, body_);
  }
  co_return;
}

}  // namespace kitty::web
