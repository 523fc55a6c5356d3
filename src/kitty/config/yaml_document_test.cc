#include "kitty/config/yaml_document.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kitty {

// For gtest's messages (found by argument-dependent lookup, so outside the anonymous namespace).
void PrintTo(const YamlOpener& o, std::ostream* os) {
  *os << "'" << o.ch << "' at " << o.line << ":" << o.column;
}

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

YamlOpener Open(char ch, int line, int column) { return YamlOpener{ch, line, column}; }

// The error lines ParseOneDocument records for `text` (empty when it parsed).
std::vector<std::string> ParseErrors(std::string_view text) {
  YamlReader r("kitty.yaml", [](const std::string&) { return std::nullopt; });
  auto doc = ParseOneDocument(text, r);
  EXPECT_EQ(doc.has_value(), r.errors().empty()) << text;
  return r.errors();
}

TEST(ConfigYamlScanTest, UnclosedBracketsAndQuotes) {
  EXPECT_THAT(ScanYaml("models:\n  m: [unclosed\n").open, ElementsAre(Open('[', 2, 6)));
  EXPECT_THAT(ScanYaml("a: {b: 1\n").open, ElementsAre(Open('{', 1, 4)));
  EXPECT_THAT(ScanYaml("a: \"abc\nb: 1\n").open, ElementsAre(Open('"', 1, 4)));
  EXPECT_THAT(ScanYaml("a: 'abc\nb: 1\n").open, ElementsAre(Open('\'', 1, 4)));
  // Innermost last; a quote inside flow.
  EXPECT_THAT(ScanYaml("m: [a, {b: 1\n").open, ElementsAre(Open('[', 1, 4), Open('{', 1, 8)));
  EXPECT_THAT(ScanYaml("m: [\"abc, 1]\n").open, ElementsAre(Open('[', 1, 4), Open('"', 1, 5)));
  // A mismatched closer ends the scan: what is open there is the answer.
  EXPECT_THAT(ScanYaml("m: [a}\nn: [b]\n").open, ElementsAre(Open('[', 1, 4)));
  // Columns count characters, not bytes.
  EXPECT_THAT(ScanYaml("\xC3\xA9t\xC3\xA9: [x\n").open, ElementsAre(Open('[', 1, 6)));
}

TEST(ConfigYamlScanTest, StopsAtTheLastLineAskedFor) {
  const char* text = "a: [1,\n  2]\nb: 'x\n";
  EXPECT_THAT(ScanYaml(text, 1).open, ElementsAre(Open('[', 1, 4)));
  EXPECT_THAT(ScanYaml(text, 2).open, IsEmpty());
  EXPECT_THAT(ScanYaml(text).open, ElementsAre(Open('\'', 3, 4)));
}

TEST(ConfigYamlScanTest, QuotesAndBracketsThatAreText) {
  // Each is valid YAML with nothing left open; a scanner that took these for openers would
  // refuse good configs.
  for (const char* text : {
           "a: it's\nb: don't 'x\nc: x\"y\n",             // inside plain scalars
           "a: foo # it's [ {\n# \"[\n",                   // comments
           "a: |\n  it's [\n  {\"\n\n  x\nb: 1\n",         // a literal block scalar
           "a: >-\n    x'\n  # not a comment\nb: 'c'\n",   // a folded one, and a blank-looking line
           "l:\n  - |2\n    it's\n  - 'ok'\n",             // a block scalar in a list
           "a: foo\n  'bar\nb: 1\n",                      // a plain scalar continued
           "- foo\n  'bar\n- baz\n",                       // the same in a list
           "k: [a'b, \"c]\", 'd''e', {x: y'z}]\n",         // flow with quotes inside
           "k: {\"a\":\"b\", 'c':[1]}\n",                  // JSON-style
           "k: !!str 'x'\nl: &a \"y\"\nm: *a\n",           // tags, anchors, aliases
           "\"q\": 'x'\n'r': \"it's\"\n",                  // quoted keys
           "a: \"esc \\\" quote \\\\\"\nb: 'it''s'\n",     // escapes
           "a: \"multi\n  line\"\nb: 'also\n  this'\n",    // quoted scalars over lines
           "a: 'x'\r\nb: [1]\r\n",                         // CRLF
           "a: b#c 'd\n",                                  // '#' without a space is text
       }) {
    EXPECT_THAT(ScanYaml(text).open, IsEmpty()) << text;
    EXPECT_THAT(ParseErrors(text), IsEmpty()) << text;  // and yaml-cpp agrees they are fine
  }
}

TEST(ConfigYamlScanTest, SecondDocumentLine) {
  EXPECT_EQ(ScanYaml("a: 1\n---\nb: 2\n").second_document_line, 2);
  EXPECT_EQ(ScanYaml("a: 1\n--- \n# only a comment\n").second_document_line, 2);
  EXPECT_EQ(ScanYaml("---\n---\na: 1\n").second_document_line, 2);
  EXPECT_EQ(ScanYaml("# c\n---\na: 1\n---\n").second_document_line, 4);
  EXPECT_EQ(ScanYaml("a: 1\n...\nb: 2\n").second_document_line, 3);
  EXPECT_EQ(ScanYaml("a: 1\n...\n---\nb: 2\n").second_document_line, 3);
  // One document.
  EXPECT_EQ(ScanYaml("---\na: 1\n").second_document_line, 0);
  EXPECT_EQ(ScanYaml("%YAML 1.2\n---\na: 1\n...\n").second_document_line, 0);
  EXPECT_EQ(ScanYaml("a: |\n  ---\n  text\n").second_document_line, 0);
  EXPECT_EQ(ScanYaml("a: ----\nb: \"\n--- \"\n").second_document_line, 0);
}

TEST(ConfigYamlDocumentTest, UnclosedConstructIsBlamedWhereItOpened) {
  EXPECT_THAT(ParseErrors("models:\n  m: [unclosed\n"),
              ElementsAre("kitty.yaml:2: YAML syntax error: unclosed '[' opened here at column 6 (parsing "
                          "stopped at line 3, column 1: end of sequence flow not found)"));
  EXPECT_THAT(ParseErrors("models:\n  m: {model_path: /a\n  n: {}\n"),
              ElementsAre("kitty.yaml:2: YAML syntax error: unclosed '{' opened here at column 6 (parsing "
                          "stopped at line 3, column 4: end of map flow not found)"));
  // yaml-cpp stops at the end of the file; without the final newline it says so.
  EXPECT_THAT(ParseErrors("a:\n  b: \"/x"),
              ElementsAre("kitty.yaml:2: YAML syntax error: unclosed '\"' opened here at column 6 (parsing "
                          "stopped at line 2, column 9: illegal EOF in scalar)"));
  EXPECT_THAT(ParseErrors("a: {b: '/x}\nc: 1\n"),
              ElementsAre("kitty.yaml:1: YAML syntax error: unclosed \"'\" opened here at column 8 (parsing "
                          "stopped at line 3, column 1: end of map flow not found)"));
  // The innermost of two, at a mismatched closer.
  EXPECT_THAT(ParseErrors("m: [a, {b: 1]\n"),
              ElementsAre("kitty.yaml:1: YAML syntax error: unclosed '{' opened here at column 8 (parsing "
                          "stopped at line 1, column 13: illegal flow end)"));
}

TEST(ConfigYamlDocumentTest, QuoteRunningToTheEndOfTheFileIsRefused) {
  // yaml-cpp 0.7 accepts these, swallowing `b: 1` into a's value.
  EXPECT_THAT(ParseErrors("a: \"abc\nb: 1\n"),
              ElementsAre("kitty.yaml:1: YAML syntax error: unclosed '\"' opened here at column 4 (the string "
                          "runs to the end of the file)"));
  EXPECT_THAT(ParseErrors("a: x\nb: 'abc\nc: 1\n"),
              ElementsAre("kitty.yaml:2: YAML syntax error: unclosed \"'\" opened here at column 4 (the string "
                          "runs to the end of the file)"));
}

TEST(ConfigYamlDocumentTest, BracketClosedLaterIsNotBlamed) {
  // The parser stops on line 2 inside the '[', but the '[' is closed on line 3: the error is
  // elsewhere, so only where parsing stopped is said.
  auto errors = ParseErrors("m: [a,\n  b: c: d,\n  e]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0], ::testing::StartsWith("kitty.yaml:2: YAML syntax error at column "));
}

TEST(ConfigYamlDocumentTest, OneDocumentOnly) {
  EXPECT_THAT(ParseErrors("models:\n  a: {}\n---\nmodels:\n  b: {}\n"),
              ElementsAre("kitty.yaml:3: a second YAML document starts here, but a config file holds one "
                          "document (kittyd would ignore this one)"));
  EXPECT_THAT(ParseErrors("a: 1\n...\nb: 2\n"),
              ElementsAre("kitty.yaml:3: a second YAML document starts here, but a config file holds one "
                          "document (kittyd would ignore this one)"));
  EXPECT_THAT(ParseErrors("a: 1\n---\n"),
              ElementsAre("kitty.yaml:2: a second YAML document starts here, but a config file holds one "
                          "document (kittyd would ignore this one)"));
  // An explicit start and end of the one document are fine, and so is an empty file.
  EXPECT_THAT(ParseErrors("---\na: 1\n...\n"), IsEmpty());
  EXPECT_THAT(ParseErrors("%YAML 1.2\n---\na: 1\n"), IsEmpty());
  EXPECT_THAT(ParseErrors(""), IsEmpty());
  EXPECT_THAT(ParseErrors("# nothing\n"), IsEmpty());
}

}  // namespace
}  // namespace kitty
