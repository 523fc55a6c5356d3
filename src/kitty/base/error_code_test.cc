#include "kitty/base/error_code.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace kitty {
namespace {

std::string ReadApiDoc() {
  std::ifstream in(std::string(KITTY_SOURCE_DIR) + "/docs/API.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ErrorCodeTest, EveryEnumeratorHasAConsistentEntry) {
  for (int i = 0; i < kErrorCodeCount; ++i) {
    const ErrorCodeInfo info = Describe(static_cast<ErrorCode>(i));
    SCOPED_TRACE("enumerator " + std::to_string(i) + " (" + std::string(info.code) + ")");
    EXPECT_FALSE(info.code.empty());
    EXPECT_GE(info.http_status, 400);
    EXPECT_LE(info.http_status, 599);
    // OpenAI's types follow the status class.
    if (info.http_status >= 500 && info.http_status != 501) EXPECT_EQ(info.type, "server_error");
    if (info.http_status == 501) EXPECT_EQ(info.type, "not_implemented_error");
    if (info.http_status == 401) EXPECT_EQ(info.type, "authentication_error");
    // 429 is the server's state (busy), not the request's fault.
    if (info.http_status == 429) EXPECT_EQ(info.type, "server_error");
    if (info.http_status < 500 && info.http_status != 401 && info.http_status != 429)
      EXPECT_EQ(info.type, "invalid_request_error");
  }
}

TEST(ErrorCodeTest, NamesAreUniqueSoTheWireTellsEveryEnumeratorApart) {
  std::set<std::string> names;
  for (int i = 0; i < kErrorCodeCount; ++i)
    EXPECT_TRUE(names.insert(std::string(ErrorCodeName(static_cast<ErrorCode>(i)))).second)
        << ErrorCodeName(static_cast<ErrorCode>(i));
}

TEST(ErrorCodeTest, EveryCodeAndReasonIsDocumentedInApiMd) {
  const std::string doc = ReadApiDoc();
  ASSERT_FALSE(doc.empty()) << "docs/API.md not found under " << KITTY_SOURCE_DIR;
  for (int i = 0; i < kErrorCodeCount; ++i) {
    const ErrorCodeInfo info = Describe(static_cast<ErrorCode>(i));
    // The status table row: "| 503 | `worker_start_failed` |".
    const std::string row =
        "| " + std::to_string(info.http_status) + " | `" + std::string(info.code) + "` |";
    EXPECT_NE(doc.find(row), std::string::npos) << "docs/API.md lacks the row " << row;
    if (!info.reason.empty()) {
      EXPECT_NE(doc.find("`" + std::string(info.reason) + "`"), std::string::npos)
          << "docs/API.md lacks the reason `" << info.reason << "` of `" << info.code << "`";
    }
  }
}

TEST(ErrorCodeTest, OnlyBusyAnswersCarryARetryAfter) {
  EXPECT_EQ(Describe(ErrorCode::kNoRoomBusy).http_status, 429);
  EXPECT_GT(RetryAfterSeconds(ErrorCode::kNoRoomBusy), 0);
  for (int i = 0; i < kErrorCodeCount; ++i)
    if (static_cast<ErrorCode>(i) != ErrorCode::kNoRoomBusy)
      EXPECT_EQ(RetryAfterSeconds(static_cast<ErrorCode>(i)), 0) << i;
}

TEST(ErrorCodeTest, StartFailuresKeepTheirReasonOthersBecomeThePlainCode) {
  EXPECT_EQ(AsStartFailure(ErrorCode::kExecFailed), ErrorCode::kExecFailed);
  EXPECT_EQ(AsStartFailure(ErrorCode::kPortInUse), ErrorCode::kPortInUse);
  EXPECT_EQ(AsStartFailure(ErrorCode::kInternal), ErrorCode::kWorkerStartFailed);
  EXPECT_EQ(AsStartFailure(ErrorCode::kIoError), ErrorCode::kWorkerStartFailed);
  const ErrorCodeInfo exec = Describe(ErrorCode::kExecFailed);
  EXPECT_EQ(exec.http_status, 503);
  EXPECT_EQ(exec.code, "worker_start_failed");
  EXPECT_EQ(exec.reason, "exec_failed");
}

}  // namespace
}  // namespace kitty
