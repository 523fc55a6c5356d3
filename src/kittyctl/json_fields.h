// Tolerant readers for kittyd's JSON, shared by every view. A field that is missing, null or of
// another type than expected reads as "not known" (nullopt, the fallback, an empty array): an
// older or newer kittyd than this kittyctl must still print, with "-" where a field is absent.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace kitty::ctl {

/// `object[key]` when `object` is an object holding `key`, else null.
inline const nlohmann::json& Field(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it != object.end() ? *it : kNull;
}

inline std::optional<double> Number(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = Field(object, key);
  if (!v.is_number()) return std::nullopt;
  return v.get<double>();
}

/// A non-negative number as an integer (byte counts, pids); negative or non-numbers are unknown.
inline std::optional<uint64_t> Unsigned(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = Field(object, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) {
    const int64_t i = v.get<int64_t>();
    return i >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(i)) : std::nullopt;
  }
  // A float byte count (1.8e9) is still a byte count; the cast below is range-checked.
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d >= 0 && d < 1.8e19) return static_cast<uint64_t>(d);
  }
  return std::nullopt;
}

/// A boolean; anything else is unknown.
inline std::optional<bool> Bool(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = Field(object, key);
  if (!v.is_boolean()) return std::nullopt;
  return v.get<bool>();
}

/// A non-empty string, else `fallback`.
inline std::string Text(const nlohmann::json& object, const char* key,
                        std::string fallback = "-") {
  const nlohmann::json& v = Field(object, key);
  if (!v.is_string() || v.get_ref<const std::string&>().empty()) return fallback;
  return v.get<std::string>();
}

/// A number printed as an integer ("1234"), "-" when unknown or beyond 64 bits (converting
/// such a double would be undefined behaviour, and no pid, port or count is that large).
inline std::string Integer(const nlohmann::json& object, const char* key) {
  const nlohmann::json& v = Field(object, key);
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  auto value = Number(object, key);
  if (!value || !(*value > -9.2e18 && *value < 9.2e18)) return "-";
  return std::to_string(static_cast<long long>(*value));
}

/// An array, or an empty one when the field is missing or not an array.
inline const nlohmann::json& Array(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  const nlohmann::json& v = Field(object, key);
  return v.is_array() ? v : kEmpty;
}

/// The items of an array joined by ", " ("qwen, smol"); an item that is not a string prints as
/// JSON rather than vanish.
inline std::string JoinStrings(const nlohmann::json& array) {
  std::string out;
  if (!array.is_array()) return out;
  for (const nlohmann::json& item : array) {
    if (!out.empty()) out += ", ";
    out += item.is_string() ? item.get<std::string>() : item.dump();
  }
  return out;
}

}  // namespace kitty::ctl
