#include "kitty/metrics/prom_text.h"

#include <cmath>
#include <cstdio>

namespace kitty {
namespace {

void Escape(std::string& out, std::string_view s, bool label) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && label) out += "\\\"";
    else out += c;
  }
}

}  // namespace

void PromText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ");
  Escape(out_, help, /*label=*/false);
  out_.append("\n# TYPE ").append(name).append(" ").append(type).append("\n");
}

void PromText::number(double v) {
  if (std::isnan(v)) {
    out_ += "NaN";
  } else if (std::isinf(v)) {
    out_ += v > 0 ? "+Inf" : "-Inf";
  } else if (v == std::floor(v) && std::fabs(v) < 1e15) {
    out_ += std::to_string(static_cast<int64_t>(v));
  } else {
    char b[32];
    std::snprintf(b, sizeof b, "%.9g", v);
    out_ += b;
  }
}

void PromText::sample(std::string_view name, const Labels& labels, double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (i) out_ += ',';
      out_.append(labels[i].first).append("=\"");
      Escape(out_, labels[i].second, /*label=*/true);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  number(value);
  out_ += '\n';
}

void PromText::histogram(std::string_view name, const Labels& labels, const std::vector<double>& bounds,
                         const std::vector<uint64_t>& counts, double sum) {
  uint64_t cumulative = 0;
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    Labels l = labels;
    if (i < bounds.size()) {
      char b[32];
      std::snprintf(b, sizeof b, "%g", bounds[i]);
      l.emplace_back("le", b);
    } else {
      l.emplace_back("le", "+Inf");
    }
    sample(bucket, l, static_cast<double>(cumulative));
  }
  sample(std::string(name) + "_sum", labels, sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
}

const std::vector<double>& LoadSecondsBuckets() {
  static const std::vector<double> kBounds = {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};
  return kBounds;
}

const std::vector<double>& TtfbSecondsBuckets() {
  static const std::vector<double> kBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,  0.5,    1,     2.5,  5,     10,   30};
  return kBounds;
}

}  // namespace kitty
