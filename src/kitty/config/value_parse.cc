#include "kitty/config/value_parse.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace kitty {
namespace {

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

}  // namespace

Result<int64_t> ParseInteger(std::string_view s) {
  std::string_view t = s;
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || ptr != t.data() + t.size())
    return MakeError("expected an integer, got " + Quoted(s));
  return v;
}

Result<double> ParseNumber(std::string_view s) {
  // Digits with at most one '.', optional leading '-' (the caller rejects negatives with a
  // clearer message).
  std::string_view t = s;
  bool neg = !t.empty() && t.front() == '-';
  if (neg || (!t.empty() && t.front() == '+')) t.remove_prefix(1);
  bool digits = false, dot = false;
  for (char c : t) {
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      digits = false;
      break;
    }
  }
  if (!digits) return MakeError("expected a number, got " + Quoted(s));
  double v = std::strtod(std::string(t).c_str(), nullptr);
  return neg ? -v : v;
}

Result<double> ParseDuration(std::string_view s) {
  auto bad = [&] {
    return MakeError("expected a duration such as 300, \"5m\", \"1h30m\" or \"-1\", got " + Quoted(s));
  };
  std::string_view t = s;
  while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  const bool neg = !t.empty() && t.front() == '-';
  if (neg || (!t.empty() && t.front() == '+')) t.remove_prefix(1);
  if (t.empty() || t.front() == '-' || t.front() == '+') return bad();
  if (auto n = ParseNumber(t); n.ok()) return neg ? -*n : *n;  // plain seconds
  double total = 0;
  while (!t.empty()) {
    size_t i = 0;
    while (i < t.size() && ((t[i] >= '0' && t[i] <= '9') || t[i] == '.')) ++i;
    auto n = ParseNumber(t.substr(0, i));
    if (i == 0 || !n.ok()) return bad();
    t.remove_prefix(i);
    size_t j = 0;
    while (j < t.size() && !((t[j] >= '0' && t[j] <= '9') || t[j] == '.')) ++j;
    const std::string_view unit = t.substr(0, j);
    t.remove_prefix(j);
    double scale = 0;
    if (unit == "h") scale = 3600;
    else if (unit == "m") scale = 60;
    else if (unit == "s") scale = 1;
    else if (unit == "ms") scale = 1e-3;
    else if (unit == "us" || unit == "µs") scale = 1e-6;
    else if (unit == "ns") scale = 1e-9;
    else return bad();
    total += *n * scale;
  }
  return neg ? -total : total;
}

Result<bool> ParseBool(std::string_view s) {
  for (auto t : {"true", "yes", "on"})
    if (EqualsIgnoreCase(s, t)) return true;
  for (auto f : {"false", "no", "off"})
    if (EqualsIgnoreCase(s, f)) return false;
  return MakeError("expected true or false, got " + Quoted(s));
}

Result<uint64_t> ParseByteSize(std::string_view s) {
  std::string_view t = Trim(s);
  size_t n = 0;
  while (n < t.size() && ((t[n] >= '0' && t[n] <= '9') || t[n] == '.')) ++n;
  std::string_view num = t.substr(0, n);
  std::string_view unit = Trim(t.substr(n));
  auto bad = [&] {
    return MakeError("expected a byte size such as 1048576, \"32MiB\" or \"1GB\", got " + Quoted(s));
  };
  if (num.empty() || num.find('.') != num.rfind('.') || num == ".") return bad();
  struct Unit {
    std::string_view name;
    double factor;
  };
  static constexpr Unit kUnits[] = {{"", 1},          {"B", 1},          {"KiB", 1024.0},
                                    {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"KB", 1e3},
                                    {"MB", 1e6},        {"GB", 1e9}};
  const Unit* u = nullptr;
  for (const auto& k : kUnits)
    if (EqualsIgnoreCase(unit, k.name)) {
      u = &k;
      break;
    }
  if (u == nullptr) return bad();
  if (num.find('.') != std::string_view::npos) {
    double v = std::strtod(std::string(num).c_str(), nullptr) * u->factor;
    if (!(v < 18446744073709551615.0)) return MakeError("byte size too large: " + Quoted(s));
    return static_cast<uint64_t>(std::llround(v));
  }
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc()) return MakeError("byte size too large: " + Quoted(s));
  auto f = static_cast<uint64_t>(u->factor);
  if (f != 0 && v > std::numeric_limits<uint64_t>::max() / f)
    return MakeError("byte size too large: " + Quoted(s));
  return v * f;
}

Result<HostPort> ParseListen(std::string_view s) {
  auto bad = [&] {
    return MakeError("expected \"host:port\" (e.g. \"127.0.0.1:7700\" or \"[::1]:7700\"), got " +
                     Quoted(s));
  };
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') return bad();
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos || s.find(':') != colon) return bad();
    hp.host = std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  if (hp.host.empty()) return bad();
  auto p = ParseInteger(port);
  if (!p.ok()) return bad();
  if (*p < 1 || *p > 65535)
    return MakeError("port " + std::to_string(*p) + " is outside 1..65535 in " + Quoted(s));
  hp.port = static_cast<int>(*p);
  return hp;
}

Status CheckPortRange(const PortRange& r) {
  if (r.first < 1 || r.first > 65535 || r.last < 1 || r.last > 65535)
    return MakeError("ports must be in 1..65535, got " + std::to_string(r.first) + "-" +
                     std::to_string(r.last));
  if (r.first > r.last)
    return MakeError("first port " + std::to_string(r.first) + " is above last port " +
                     std::to_string(r.last));
  return Status::Ok();
}

Result<PortRange> ParsePortRange(std::string_view s) {
  size_t dash = s.find('-');
  auto bad = [&] { return MakeError("expected a port range such as \"41000-41999\", got " + Quoted(s)); };
  if (dash == std::string_view::npos) return bad();
  auto a = ParseInteger(Trim(s.substr(0, dash)));
  auto b = ParseInteger(Trim(s.substr(dash + 1)));
  if (!a.ok() || !b.ok()) return bad();
  if (*a < 0 || *a > 70000 || *b < 0 || *b > 70000)
    return MakeError("ports must be in 1..65535, got " + Quoted(s));
  PortRange r{static_cast<int>(*a), static_cast<int>(*b)};
  if (auto st = CheckPortRange(r); !st.ok()) return st.error();
  return r;
}

}  // namespace kitty
