#include "kittyctl/top_view.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kittyctl/format.h"
#include "kittyctl/json_fields.h"

namespace kitty::ctl {

namespace {

using nlohmann::json;

constexpr uint64_t kMiB = 1ull << 20;
constexpr size_t kMaxEvents = 3;  // pressure events shown in the header, the latest ones

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%gs", s);
  return buf;
}

// Appends `items` to `lines` after `label`, `separator` apart, wrapping onto lines indented
// under the first item instead of running past `width` (the memory line has eight items).
void Wrapped(std::vector<std::string>& lines, const std::string& label,
             const std::vector<std::string>& items, size_t width,
             const std::string& separator = "  ") {
  const std::string indent(DisplayWidth(label), ' ');
  std::string line = label;
  bool first = true;
  for (const std::string& item : items) {
    if (!first && DisplayWidth(line) + separator.size() + DisplayWidth(item) > width) {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      lines.push_back(line);
      line = indent + item;
    } else {
      line += (first ? "" : separator) + item;
    }
    first = false;
  }
  lines.push_back(line);
}

// --- the header ----------------------------------------------------------------------------------

std::string StatusCounts(const json& workers) {
  static const char* const kOrder[] = {"ready", "starting", "stopping", "failed", "stopped"};
  std::map<std::string, int> counts;
  size_t total = 0;
  for (const json& w : Array(workers, "workers")) {
    if (!w.is_object()) continue;  // the table skips it too
    ++counts[Text(w, "status", "unknown")];
    ++total;
  }
  std::string out = std::to_string(total) + (total == 1 ? " model" : " models");
  std::string parts;
  auto add = [&](const std::string& status, int n) {
    parts += (parts.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  };
  for (const char* status : kOrder) {
    if (auto it = counts.find(status); it != counts.end()) {
      add(status, it->second);
      counts.erase(it);
    }
  }
  for (const auto& [status, n] : counts) add(status, n);  // a status newer than this kittyctl
  return parts.empty() ? out : out + ": " + parts;
}

std::string Bytes(const json& object, const char* key) {
  return FormatBytes(Unsigned(object, key));
}


void MemoryLines(std::vector<std::string>& lines, const TopData& data, size_t width) {
  const json& m = data.memory;
  if (!m.is_object()) {
    lines.push_back("system memory: " +
                    (data.memory_note.empty() ? std::string("-") : data.memory_note));
    return;
  }
  const json& cgroup = Field(m, "cgroup");
  std::string cgroup_text = "-";
  if (cgroup.is_object()) {
    // memory.max "max" (no limit) arrives as null: say so rather than print "-".
    const auto max = Unsigned(cgroup, "max_bytes");
    cgroup_text = Bytes(cgroup, "current_bytes") + " / " + (max ? FormatBytes(max) : "no limit");
  }
  Wrapped(lines, "memory: ",
          {"total " + Bytes(m, "total_bytes"), "available " + Bytes(m, "available_bytes"),
           "budget " + Bytes(m, "budget_bytes"), "reserve " + Bytes(m, "reserve_bytes"),
           "workers " + Bytes(m, "workers_bytes"), "max models " + Integer(m, "max_models"),
           "swap " + Bytes(m, "swap_used_bytes"), "cgroup " + cgroup_text},
          width);

  const json& gpus = Field(m, "gpus");
  if (!gpus.is_array()) {
    lines.push_back("gpus: -");
  } else if (gpus.empty()) {
    lines.push_back("gpus: none");
  }
  for (const json& gpu : Array(m, "gpus")) {
    if (!gpu.is_object()) continue;
    Wrapped(lines, "gpu " + Integer(gpu, "index") + ": ",
            {Text(gpu, "name"),
             "used " + Bytes(gpu, "used_bytes") + " / " + Bytes(gpu, "total_bytes"),
             "budget " + Bytes(gpu, "budget_bytes")},
            width);
  }

  const json& pressure = Field(m, "pressure");
  if (!pressure.is_object()) {
    lines.push_back("pressure: -");
  } else {
    std::string kinds;
    for (const char* kind : {"ram", "gpu", "cpu", "disk"}) {
      if (Bool(pressure, kind).value_or(false)) kinds += std::string(kinds.empty() ? "" : ", ") + kind;
    }
    lines.push_back("pressure: " + (kinds.empty() ? std::string("none") : kinds));
    const json& events = Array(pressure, "events");
    const size_t first = events.size() > kMaxEvents ? events.size() - kMaxEvents : 0;
    for (size_t i = first; i < events.size(); ++i) {
      if (!events[i].is_object()) continue;
      lines.push_back("  " + Text(events[i], "at") + "  " + Text(events[i], "kind") + ": " +
                      Text(events[i], "message"));
    }
  }

  const json& queue = Field(m, "restore_queue");
  const std::string queued = JoinStrings(Array(m, "restore_queue"));
  lines.push_back("restore queue: " +
                  (!queue.is_array() ? std::string("-") : queued.empty() ? "empty" : queued));
}

// --- the table -----------------------------------------------------------------------------------

// Columns in order; `drop` is the order in which they are hidden on a narrow terminal (1 first;
// 0 never: MODEL, STATUS and RSS say what the view is for). Every other column at its widest
// takes about 116 columns, so 120 fits short ids with typical cells (the README's example), and
// long ids or a GPU column cost PID, HOLDS, ESTIMATE first.
struct TopColumn {
  Column column;
  int drop;
};
enum Col { kModel, kClass, kStatus, kPid, kRss, kGpu, kExpected, kEstimate, kIdle, kFlight,
           kHolds, kPrio, kPolicy, kColumnCount };
const TopColumn kColumns[kColumnCount] = {
    {{"MODEL"}, 0},          {{"CLASS"}, 10},          {{"STATUS"}, 0},
    {{"PID", true}, 1},      {{"RSS", true}, 0},       {{"GPU", true}, 8},
    {{"EXPECTED", true}, 9}, {{"ESTIMATE", true}, 3},  {{"IDLE", true}, 4},
    {{"FLIGHT", true}, 5},   {{"HOLDS", true}, 2},     {{"PRIO", true}, 6},
    {{"POLICY"}, 7},
};
constexpr size_t kModelSoftMin = 16;  // cut ids to this before hiding any column
constexpr size_t kModelHardMin = 8;   // and to this when hiding columns was not enough

// The bytes a worker holds now: memory.rss_bytes (+ gpu_bytes), or the older rss_mb.
std::optional<uint64_t> HeldBytes(const json& w) {
  // A model inside Ollama: what Ollama reports it holds.
  if (auto up = Unsigned(Field(w, "upstream"), "size_bytes")) return up;
  const json& mem = Field(w, "memory");
  std::optional<uint64_t> rss = Unsigned(mem, "rss_bytes");
  if (!rss) {
    // Bounded so the conversion is defined: 2^44 MiB is 2^64 bytes.
    if (auto mib = Number(w, "rss_mb"); mib && *mib >= 0 && *mib < 0x1p44) {
      rss = static_cast<uint64_t>(*mib * kMiB);
    }
  }
  const std::optional<uint64_t> gpu = Unsigned(mem, "gpu_bytes");
  if (!rss && !gpu) return std::nullopt;
  return rss.value_or(0) + gpu.value_or(0);
}

bool Running(const std::string& status) {
  return status == "ready" || status == "starting" || status == "stopping";
}

// Holding memory first, largest first; then running ones without figures; then by id.
void SortRows(std::vector<const json*>& workers) {
  auto key = [](const json* w) {
    const uint64_t held = HeldBytes(*w).value_or(0);
    return std::make_tuple(held == 0, ~held, !Running(Text(*w, "status")), Text(*w, "model_id"));
  };
  std::stable_sort(workers.begin(), workers.end(),
                   [&](const json* a, const json* b) { return key(a) < key(b); });
}

// "*" after a policy value set at runtime (kittyctl pin/priority), which a config reload keeps.
std::string Marked(const json& w, const char* field, std::string value, bool& any_runtime) {
  if (Text(Field(w, "policy_source"), field, "") != "runtime") return value;
  any_runtime = true;
  return value + "*";
}

std::vector<std::string> Row(const json& w, bool& any_runtime) {
  const json& mem = Field(w, "memory");
  const std::string status = Text(w, "status");
  std::optional<uint64_t> rss = Unsigned(mem, "rss_bytes");
  std::string rss_text = FormatBytes(rss);
  if (!rss) rss_text = FormatMiB(Number(w, "rss_mb"));  // a kittyd from before issue 9
  if (auto up = Unsigned(Field(w, "upstream"), "size_bytes")) rss_text = FormatBytes(up) + " (ollama)";

  std::string expected = FormatBytes(Unsigned(mem, "expected_bytes"));
  const std::string basis = Text(mem, "basis", "");
  if (expected != "-" && !basis.empty() && basis != "unknown") expected += " " + basis;
  std::string estimate = FormatBytes(Unsigned(mem, "estimate_bytes"));
  if (auto error = Number(mem, "estimate_error"); error && estimate != "-") {
    estimate += " " + FormatRatioPercent(error);
  }

  std::string policy;
  if (Bool(w, "pinned").value_or(false)) policy = Marked(w, "pinned", "pinned", any_runtime);
  if (Bool(w, "pressure_evict_only").value_or(false)) {
    policy += (policy.empty() ? "" : ",") +
              Marked(w, "pressure_evict_only", "pressure-only", any_runtime);
  }
  std::string prio = Integer(w, "priority");
  if (prio != "-") prio = Marked(w, "priority", prio, any_runtime);
  const size_t holds = Array(w, "holds").size();

  std::vector<std::string> row(kColumnCount);
  row[kModel] = Text(w, "model_id", "?");
  row[kClass] = Text(w, "class");
  row[kStatus] = status;
  row[kPid] = Integer(w, "pid");
  row[kRss] = rss_text;
  row[kGpu] = FormatBytes(Unsigned(mem, "gpu_bytes"));
  row[kExpected] = expected;
  row[kEstimate] = estimate;
  // Idle time means something only for a ready worker, as in `kittyctl ps`.
  row[kIdle] = status == "ready" ? FormatDuration(Number(w, "idle_seconds")) : "-";
  row[kFlight] = Integer(w, "in_flight");
  row[kHolds] = holds ? std::to_string(holds) : "-";
  row[kPrio] = prio;
  row[kPolicy] = policy.empty() ? "-" : policy;
  return row;
}

// GPU figures only where there is a GPU: on most boxes the column would be all "-".
bool ShowGpu(const json& memory, const std::vector<std::vector<std::string>>& rows) {
  if (!Array(memory, "gpus").empty()) return true;
  return std::any_of(rows.begin(), rows.end(), [](const auto& r) { return r[kGpu] != "-"; });
}

void TableLines(std::vector<std::string>& lines, const TopData& data, size_t width) {
  std::vector<const json*> workers;
  for (const json& w : Array(data.workers, "workers")) {
    if (w.is_object()) workers.push_back(&w);
  }
  SortRows(workers);
  bool any_runtime = false;
  std::vector<std::vector<std::string>> rows;
  for (const json* w : workers) rows.push_back(Row(*w, any_runtime));

  std::vector<size_t> natural(kColumnCount);
  for (size_t c = 0; c < kColumnCount; ++c) {
    natural[c] = DisplayWidth(kColumns[c].column.header);
    for (const auto& row : rows) natural[c] = std::max(natural[c], DisplayWidth(row[c]));
  }
  std::vector<bool> shown(kColumnCount, true);
  shown[kGpu] = ShowGpu(data.memory, rows);
  auto others = [&] {  // the width of every shown column but MODEL, with separators
    size_t sum = 0;
    for (size_t c = 1; c < kColumnCount; ++c) sum += shown[c] ? natural[c] + 2 : 0;
    return sum;
  };
  auto model_room = [&] { return width > others() ? width - others() : 0; };

  std::vector<std::string> hidden;
  for (int rank = 1; model_room() < std::min(natural[kModel], kModelSoftMin); ++rank) {
    auto next = std::find_if(std::begin(kColumns), std::end(kColumns),
                             [&](const TopColumn& c) { return c.drop == rank; });
    if (next == std::end(kColumns)) break;  // nothing left to hide
    const size_t c = static_cast<size_t>(next - std::begin(kColumns));
    if (!shown[c]) continue;
    shown[c] = false;
    hidden.push_back(next->column.header);
  }
  const size_t model_width = std::min(natural[kModel], std::max(model_room(), kModelHardMin));

  std::vector<Column> columns;
  for (size_t c = 0; c < kColumnCount; ++c) {
    if (shown[c]) columns.push_back(kColumns[c].column);
  }
  std::vector<std::vector<std::string>> cells;
  for (auto& row : rows) {
    std::vector<std::string> visible;
    for (size_t c = 0; c < kColumnCount; ++c) {
      if (!shown[c]) continue;
      visible.push_back(c == kModel ? TruncateMiddle(row[c], model_width) : std::move(row[c]));
    }
    cells.push_back(std::move(visible));
  }
  const std::string table = RenderTable(columns, cells);
  for (size_t start = 0; start < table.size();) {
    const size_t end = table.find('\n', start);
    lines.push_back(table.substr(start, end - start));
    start = end == std::string::npos ? table.size() : end + 1;
  }
  if (rows.empty()) lines.push_back("(no models configured)");
  if (any_runtime) lines.push_back("* set at runtime; a config reload keeps it");
  if (!hidden.empty()) {
    Wrapped(lines, "hidden to fit " + std::to_string(width) + " columns: ", hidden, width, ", ");
  }
}

}  // namespace

std::string TopFrame(const TopFrameInput& input, size_t width) {
  std::vector<std::string> lines;
  std::string title = "kittyd " + input.url;
  if (!input.data.taken_at.empty()) title += "  " + input.data.taken_at;
  title += "  every " + Seconds(input.interval_s);
  if (!input.data.workers.is_null()) title += "  " + StatusCounts(input.data.workers);
  if (input.interactive) title += "  (q quits)";
  lines.push_back(title);
  if (!input.error.empty()) {
    std::string line = "✗ " + input.error;
    if (!input.data.workers.is_null()) {
      line += " (below: the answer of " + input.data.taken_at + ")";
    }
    lines.push_back(line);
  }
  if (!input.data.workers.is_null()) {
    MemoryLines(lines, input.data, width);
    lines.emplace_back();
    TableLines(lines, input.data, width);
  }
  std::string out;
  // Nothing may run past the width: on a terminal a wrapped line shifts every line below it.
  for (const std::string& line : lines) out += Truncate(line, width) + "\n";
  return out;
}

}  // namespace kitty::ctl
