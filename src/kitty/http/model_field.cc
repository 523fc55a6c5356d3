#include "kitty/http/model_field.h"

#include <nlohmann/json.hpp>

namespace kitty::web {
namespace {

// A SAX handler that validates the whole document but keeps only the top-level "model".
class ModelSax : public nlohmann::json_sax<nlohmann::json> {
 public:
  std::string model;
  bool found = false;
  bool model_not_string = false;
  bool top_is_object = false;
  std::string error;

  bool null() override { return value(); }
  bool boolean(bool) override { return value(); }
  bool number_integer(number_integer_t) override { return value(); }
  bool number_unsigned(number_unsigned_t) override { return value(); }
  bool number_float(number_float_t, const string_t&) override { return value(); }
  bool string(string_t& s) override {
    if (depth_ == 1 && next_is_model_) {
      model = std::move(s);
      found = true;
      next_is_model_ = false;
      return true;
    }
    return value();
  }
  bool binary(binary_t&) override { return value(); }
  bool start_object(std::size_t) override {
    if (depth_ == 0) top_is_object = true;
    value();
    ++depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) next_is_model_ = (k == "model");
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    value();
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error = "request body is not valid JSON (at byte " + std::to_string(position) + ")";
    return false;
  }

 private:
  bool value() {
    if (depth_ == 1 && next_is_model_) {
      model_not_string = true;
      next_is_model_ = false;
    }
    return true;
  }
  int depth_ = 0;
  bool next_is_model_ = false;
};

}  // namespace

Result<std::string> ReadModelField(std::string_view body) {
  ModelSax sax;
  const bool ok = nlohmann::json::sax_parse(body.begin(), body.end(), &sax,
                                            nlohmann::json::input_format_t::json, true);
  if (!ok || !sax.error.empty())
    return MakeError(sax.error.empty() ? "request body is not valid JSON" : sax.error,
                     ErrorCode::kInvalidJson);
  if (!sax.top_is_object) return MakeError("request body must be a JSON object", ErrorCode::kInvalidJson);
  if (!sax.found)
    return MakeError(
        sax.model_not_string ? "'model' must be a string" : "request body has no 'model' field",
        ErrorCode::kMissingModel);
  return std::move(sax.model);
}

std::string WithModel(const std::string& body, const std::string& id) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return body;
  j["model"] = id;
  return j.dump();
}

}  // namespace kitty::web
