#include "kitty/config/yaml_document.h"

#include <algorithm>
#include <string>

namespace kitty {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }
bool IsFlowIndicator(char c) { return c == ',' || c == '[' || c == ']' || c == '{' || c == '}'; }

// 1-based column of byte `k` of `line`, counting UTF-8 characters (continuation bytes are
// 10xxxxxx).
int Column(std::string_view line, size_t k) {
  int col = 1;
  for (size_t i = 0; i < k && i < line.size(); ++i)
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++col;
  return col;
}

// A document marker: "---" or "..." at column 0, followed by a space or the end of the line.
bool IsMarker(std::string_view line, std::string_view marker) {
  return line.substr(0, 3) == marker && (line.size() == 3 || IsSpace(line[3]));
}

// The scanner's state across lines. YAML's rules it needs are few:
//  - a quote opens a quoted scalar only where a token starts (`it's` is plain text), and in
//    "..." a backslash escapes, in '...' a doubled quote is a quote;
//  - `#` starts a comment only after whitespace (or at the start of a line);
//  - `[` `{` open flow collections where a token starts, and anywhere inside flow;
//  - a plain scalar goes on to the next line if that line is more indented (block context)
//    or while inside flow, so a quote at the start of such a line is text;
//  - the lines of a `|` / `>` block scalar (those more indented than its parent line, and
//    blank ones) are text.
class Scanner {
 public:
  explicit Scanner(int last_line) : last_line_(last_line) {}

  YamlScan Run(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
    size_t pos = 0;
    for (int line = 1; pos <= text.size() && !stopped_; ++line) {
      if (last_line_ > 0 && line > last_line_) break;
      size_t eol = text.find('\n', pos);
      if (eol == std::string_view::npos) eol = text.size();
      Line(text.substr(pos, eol - pos), line);
      if (eol == text.size()) break;
      pos = eol + 1;
    }
    YamlScan out;
    out.open = flow_;
    if (quote_) out.open.push_back(*quote_);
    out.second_document_line = second_document_line_;
    return out;
  }

 private:
  enum class Mode { kBetween, kPlain };  // between tokens, or inside a plain scalar

  void Line(std::string_view l, int line) {
    size_t k = 0;
    if (!quote_) {
      int indent = 0;
      while (static_cast<size_t>(indent) < l.size() && l[indent] == ' ') ++indent;
      size_t first = indent;
      while (first < l.size() && IsSpace(l[first])) ++first;
      bool blank = first == l.size();
      if (block_scalar_parent_ >= 0) {
        if (blank || indent > block_scalar_parent_) return;  // the block scalar's text
        block_scalar_parent_ = -1;
      }
      if (blank) return;  // keeps a plain scalar going: it may continue after a blank line
      if (flow_.empty() && IsMarker(l, "---")) {
        DocumentStart(line);
        mode_ = Mode::kBetween;
        k = 3;
      } else if (flow_.empty() && IsMarker(l, "...")) {
        doc_ended_ = doc_started_;
        mode_ = Mode::kBetween;
        return;
      } else {
        if (mode_ == Mode::kPlain && flow_.empty() && indent <= plain_indent_) mode_ = Mode::kBetween;
        bool directive = first == 0 && l[0] == '%' && (!doc_started_ || doc_ended_);
        if (l[first] != '#' && !directive) Content(line);
        k = first;
      }
      indent_ = indent;
    }
    Chars(l, k, line);
  }

  void DocumentStart(int line) {
    if (doc_started_ && second_document_line_ == 0) second_document_line_ = line;
    doc_started_ = true;
    doc_ended_ = false;
  }

  void Content(int line) {
    if (doc_ended_ && second_document_line_ == 0) second_document_line_ = line;
    doc_started_ = true;
  }

  void Chars(std::string_view l, size_t k, int line) {
    while (k < l.size()) {
      char c = l[k];
      if (quote_) {
        if (quote_->ch == '"' && c == '\\') {
          k += 2;  // an escape (at the end of a line: an escaped line break)
        } else if (c == quote_->ch && c == '\'' && k + 1 < l.size() && l[k + 1] == '\'') {
          k += 2;  // '' inside '...'
        } else {
          if (c == quote_->ch) quote_.reset();
          ++k;
        }
        continue;
      }
      if (c == '#' && (k == 0 || IsSpace(l[k - 1]))) {
        mode_ = Mode::kBetween;  // a comment ends a plain scalar
        return;
      }
      if (IsSpace(c)) {
        ++k;
        continue;
      }
      bool end = k + 1 == l.size();
      char next = end ? '\n' : l[k + 1];
      if (mode_ == Mode::kPlain) {
        // ": " ends a key; in flow, so do the flow indicators (which are handled below).
        if (c == ':' && (end || IsSpace(next) || (!flow_.empty() && IsFlowIndicator(next)))) {
          mode_ = Mode::kBetween;
          ++k;
          continue;
        }
        if (flow_.empty() || !IsFlowIndicator(c)) {
          ++k;
          continue;
        }
        mode_ = Mode::kBetween;
      }
      // Where a token starts.
      switch (c) {
        case '"':
        case '\'':
          quote_ = YamlOpener{c, line, Column(l, k)};
          ++k;
          continue;
        case '[':
        case '{':
          flow_.push_back(YamlOpener{c, line, Column(l, k)});
          ++k;
          continue;
        case ']':
        case '}':
          if (!flow_.empty()) {
            if (flow_.back().ch != (c == ']' ? '[' : '{')) {
              stopped_ = true;  // `[a}`: the parser stops here; what is open is the answer
              return;
            }
            flow_.pop_back();
          }
          ++k;
          continue;
        case ',':
          ++k;
          continue;
        case '-':
        case '?':
        case ':':
          if (end || IsSpace(next) || (c == ':' && !flow_.empty())) {
            ++k;
            continue;
          }
          break;
        case '|':
        case '>':
          if (flow_.empty() && IsBlockScalarHeader(l.substr(k + 1))) {
            block_scalar_parent_ = indent_;
            mode_ = Mode::kBetween;
            return;
          }
          break;
        case '&':
        case '!':  // an anchor or a tag: one word, then the node it names
          while (k < l.size() && !IsSpace(l[k]) && !(!flow_.empty() && IsFlowIndicator(l[k]))) ++k;
          continue;
        default:
          break;
      }
      mode_ = Mode::kPlain;
      plain_indent_ = indent_;
      ++k;
    }
  }

  // After `|` or `>`: optional chomping/indentation indicators, then nothing but a comment.
  static bool IsBlockScalarHeader(std::string_view rest) {
    size_t j = 0;
    while (j < rest.size() && (rest[j] == '-' || rest[j] == '+' || (rest[j] >= '0' && rest[j] <= '9'))) ++j;
    while (j < rest.size() && IsSpace(rest[j])) ++j;
    return j == rest.size() || (rest[j] == '#' && j > 0 && IsSpace(rest[j - 1]));
  }

  int last_line_;
  std::vector<YamlOpener> flow_;
  std::optional<YamlOpener> quote_;
  Mode mode_ = Mode::kBetween;
  int indent_ = 0;                 // the current line's indentation
  int plain_indent_ = -1;          // indentation of the line where the current plain scalar began
  int block_scalar_parent_ = -1;   // >= 0 while in a block scalar: its parent line's indentation
  bool doc_started_ = false, doc_ended_ = false;
  int second_document_line_ = 0;
  bool stopped_ = false;
};

// "unclosed '[' opened here at column 4"; a single quote is shown in double quotes.
std::string Describe(const YamlOpener& o) {
  char q = o.ch == '\'' ? '"' : '\'';
  return std::string("unclosed ") + q + o.ch + q + " opened here at column " + std::to_string(o.column);
}

}  // namespace

YamlScan ScanYaml(std::string_view text, int last_line) { return Scanner(last_line).Run(text); }

std::optional<YAML::Node> ParseOneDocument(std::string_view text, YamlReader& r) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::ParserException& e) {
    int stop_line = e.mark.line + 1, stop_column = e.mark.column + 1;
    // What was open where the parser stopped and is never closed later on: the construct to
    // blame (innermost first). One closed further down is not (the error is elsewhere).
    YamlScan at_stop = ScanYaml(text, stop_line);
    YamlScan whole = ScanYaml(text);
    for (auto it = at_stop.open.rbegin(); it != at_stop.open.rend(); ++it) {
      if (std::find(whole.open.begin(), whole.open.end(), *it) == whole.open.end()) continue;
      r.Error(it->line, "", "YAML syntax error: " + Describe(*it) + " (parsing stopped at line " +
                                std::to_string(stop_line) + ", column " + std::to_string(stop_column) +
                                ": " + e.msg + ")");
      return std::nullopt;
    }
    r.Error(stop_line, "", "YAML syntax error at column " + std::to_string(stop_column) + ": " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    r.Error(e.mark.line + 1, "", std::string("YAML error: ") + e.what());
    return std::nullopt;
  }
  YamlScan whole = ScanYaml(text);
  // yaml-cpp 0.7 lets a quoted scalar that is never closed run to the end of the file when
  // the file ends with a newline: `m: "abc` then `b: 1` loads as m = "abc b: 1 ", b lost.
  if (!whole.open.empty() && (whole.open.back().ch == '"' || whole.open.back().ch == '\'')) {
    const YamlOpener& q = whole.open.back();
    r.Error(q.line, "", "YAML syntax error: " + Describe(q) + " (the string runs to the end of the file)");
    return std::nullopt;
  }
  if (docs.size() > 1) {
    int line = whole.second_document_line > 0 ? whole.second_document_line : YamlReader::Line(docs[1]);
    r.Error(line, "",
            "a second YAML document starts here, but a config file holds one document (kittyd would "
            "ignore this one)");
    return std::nullopt;
  }
  return docs.empty() ? YAML::Node() : docs[0];
}

}  // namespace kitty
