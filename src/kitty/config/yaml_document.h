// From config text to exactly one YAML document, with syntax errors located where a person
// would look for them. Internal to config/.
//
// yaml-cpp reports only where its parser stopped: `m: [unclosed` on line 2 of a two-line file
// is "line 3: end of sequence flow not found". It also loads only the first document of a file
// and ignores the rest, and (0.7) lets a quoted scalar that is never closed run to the end of
// the file, swallowing every key after it. ScanYaml is a small scanner (not a parser) that
// tracks open flow brackets and quoted scalars outside comments and block scalars, and where
// documents start; ParseOneDocument uses it to name the line where an unclosed construct
// opened, and to refuse a second document and a quote that never ends (issue 8).
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string_view>
#include <vector>

#include "kitty/config/yaml_reader.h"

namespace kitty {

/// An opening flow bracket or quote.
struct YamlOpener {
  char ch = 0;     // '[', '{', '"' or '\''
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in characters
  bool operator==(const YamlOpener&) const = default;
};

struct YamlScan {
  /// Brackets and quotes still open where the scan ended, outermost first (a quote, being
  /// unable to contain anything, can only be last). The scan ends at the end of its last
  /// line, or at the first closing bracket that does not match the innermost open one.
  std::vector<YamlOpener> open;
  /// The 1-based line where a second document starts: a `---` after the first document's
  /// start or content, or content after `...`; 0 when there is none.
  int second_document_line = 0;
};

/// Scans `text` through the end of line `last_line` (1-based; 0: to the end of the text).
YamlScan ScanYaml(std::string_view text, int last_line = 0);

/// The one document in `text` (a null node for an empty file). A syntax error, a second
/// document or a quote that never closes is recorded in `r` as "file:line: ..." and gives
/// nullopt, e.g.
///   kitty.yaml:2: YAML syntax error: unclosed '[' opened here at column 4 (parsing stopped
///   at line 3, column 1: end of sequence flow not found)
std::optional<YAML::Node> ParseOneDocument(std::string_view text, YamlReader& r);

}  // namespace kitty
