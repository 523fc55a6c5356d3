// `kittyctl models`: the configured models and their GGUF summary, from GET /v1/models.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kittyctl/format.h"
#include "kittyctl/json_fields.h"
#include "kittyctl/views.h"

namespace kitty::ctl {

using nlohmann::json;

std::string ModelsTable(const json& models_body) {
  static const std::vector<Column> kColumns = {
      {"MODEL"}, {"STATUS"},    {"BACKEND"},     {"ALIASES"},       {"ARCH"},
      {"PARAMS", true}, {"QUANT"}, {"CONTEXT", true}, {"LAYERS", true}, {"FILE", true},
  };
  std::vector<std::vector<std::string>> rows;
  for (const json& m : Array(models_body, "data")) {
    std::string aliases;
    for (const json& alias : Array(m, "aliases")) {
      if (!alias.is_string()) continue;
      if (!aliases.empty()) aliases += ",";
      aliases += alias.get<std::string>();
    }
    const json gguf = m.is_object() && m.contains("gguf") ? m["gguf"] : json();
    std::string params = Text(gguf, "size_label");
    if (params == "-") {
      if (auto n = Unsigned(gguf, "parameter_count")) params = FormatCount(*n);
    }
    auto context = Unsigned(gguf, "context_length");
    rows.push_back({
        Text(m, "id", "?"),
        Text(m, "status"),
        Text(m, "backend"),
        aliases.empty() ? "-" : aliases,
        Text(gguf, "architecture"),
        params,
        Text(gguf, "file_type_name"),
        context ? std::to_string(*context) : "-",
        Integer(gguf, "block_count"),
        FormatBytes(Unsigned(gguf, "file_size_bytes")),
    });
  }
  return RenderTable(kColumns, rows);
}

}  // namespace kitty::ctl
