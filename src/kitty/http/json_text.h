// JsonText: writes JSON text straight into a string, without building a tree first. For the
// status objects that dashboards poll many times a second: a tree of maps for ten workers cost
// several times the text it printed, on a thread shared with the requests being relayed.
// Scalars that need care (non-ASCII or escaped strings, doubles) go through nlohmann's own
// serializer, so the text is what nlohmann::json would print for them.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kitty::web {

class JsonText {
 public:
  JsonText& begin_object() { return open('{'); }
  JsonText& end_object() { return close('}'); }
  JsonText& begin_array() { return open('['); }
  JsonText& end_array() { return close(']'); }

  /// The next member's name (inside an object); then exactly one value.
  JsonText& key(std::string_view k) {
    separate();
    Quote(k, &out_);
    out_ += ':';
    after_key_ = true;
    return *this;
  }

  JsonText& null() { return raw("null"); }
  JsonText& boolean(bool b) { return raw(b ? "true" : "false"); }
  JsonText& str(std::string_view s) {
    separate();
    Quote(s, &out_);
    return *this;
  }
  JsonText& num(double v) {
    return raw(nlohmann::json(v).dump());  // nlohmann's shortest round-trip form, null for NaN
  }
  template <class Int>
  JsonText& integer(Int v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    return raw(std::string_view(buf, static_cast<size_t>(r.ptr - buf)));
  }

  /// A whole value built elsewhere (nlohmann), for the odd nested part.
  JsonText& json(const nlohmann::json& v) {
    return raw(v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }

  std::string take() { return std::move(out_); }

  /// `s` as a JSON string. Printable ASCII is copied as is; anything else goes through
  /// nlohmann (escapes, and U+FFFD for invalid UTF-8, as every other answer of kittyd).
  static void Quote(std::string_view s, std::string* out) {
    bool plain = true;
    for (unsigned char c : s)
      if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
        plain = false;
        break;
      }
    if (plain) {
      *out += '"';
      *out += s;
      *out += '"';
      return;
    }
    *out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }

 private:
  JsonText& open(char c) {
    separate();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonText& close(char c) {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  JsonText& raw(std::string_view text) {
    separate();
    out_ += text;
    return *this;
  }
  // A comma before every element but the first of its object or array; none after a key.
  void separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }

  std::string out_;
  std::vector<bool> first_;  // per open object/array: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace kitty::web
