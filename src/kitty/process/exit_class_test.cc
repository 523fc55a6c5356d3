#include "kitty/process/exit_class.h"

#include <signal.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace kitty {
namespace {

using ::testing::HasSubstr;

ExitFacts Ready(int code, int sig = 0) {
  ExitFacts f;
  f.status.code = code;
  f.status.signal = sig;
  f.became_ready = true;
  return f;
}

TEST(ExitClassTest, AStopKittydAskedForIsNoFailureWhateverItEndedWith) {
  ExitFacts f = Ready(-1, SIGKILL);  // the stop escalated to SIGKILL
  f.stop_requested = true;
  const ExitVerdict v = ClassifyExit(f);
  EXPECT_EQ(v.kind, ExitKind::kStopped);
  EXPECT_FALSE(v.failure());
}

TEST(ExitClassTest, HungWinsOverEverythingElse) {
  ExitFacts f = Ready(-1, SIGKILL);
  f.hung = true;
  f.stop_requested = true;
  EXPECT_EQ(ClassifyExit(f).kind, ExitKind::kHung);
  EXPECT_THAT(ClassifyExit(f).why, HasSubstr("stopped answering"));
}

TEST(ExitClassTest, AnUnsentSigkillWithAMovedCounterIsAConfirmedOomKill) {
  ExitFacts f = Ready(-1, SIGKILL);
  f.oom_before = {3, 0};
  f.oom_after = {4, 1};
  const ExitVerdict v = ClassifyExit(f);
  EXPECT_EQ(v.kind, ExitKind::kOomKill);
  EXPECT_THAT(v.why, HasSubstr("cgroup oom_kill 0 → 1")) << "the cgroup's own counter is named first";
  f.oom_after.cgroup = 0;
  EXPECT_THAT(ClassifyExit(f).why, HasSubstr("system oom_kill 3 → 4"));
}

TEST(ExitClassTest, WithoutCountersAnUnsentSigkillIsAProbableOomKill) {
  const ExitVerdict v = ClassifyExit(Ready(-1, SIGKILL));  // macOS: no counters
  EXPECT_EQ(v.kind, ExitKind::kOomKill);
  EXPECT_THAT(v.why, HasSubstr("probably"));
  ExitFacts wrapped = Ready(137);  // a shell reporting its child's SIGKILL
  EXPECT_EQ(ClassifyExit(wrapped).kind, ExitKind::kOomKill);
}

TEST(ExitClassTest, AnUnsentSigkillWithUnmovedCountersIsACrash) {
  ExitFacts f = Ready(-1, SIGKILL);
  f.oom_before = {5, std::nullopt};
  f.oom_after = {5, std::nullopt};
  const ExitVerdict v = ClassifyExit(f);
  EXPECT_EQ(v.kind, ExitKind::kCrash);
  EXPECT_THAT(v.why, HasSubstr("did not move"));
}

TEST(ExitClassTest, StartFailuresCleanExitsAndCrashes) {
  ExitFacts early = Ready(1);
  early.became_ready = false;
  EXPECT_EQ(ClassifyExit(early).kind, ExitKind::kStartFailure);
  EXPECT_EQ(ClassifyExit(Ready(0)).kind, ExitKind::kClean);
  EXPECT_TRUE(ClassifyExit(Ready(0)).failure()) << "an exit nobody asked for";
  EXPECT_EQ(ClassifyExit(Ready(2)).kind, ExitKind::kCrash);
  EXPECT_EQ(ClassifyExit(Ready(-1, SIGSEGV)).kind, ExitKind::kCrash);
  EXPECT_THAT(ClassifyExit(Ready(-1, SIGSEGV)).why, HasSubstr("SIGSEGV"));
}

TEST(ExitClassTest, KindNames) {
  EXPECT_STREQ(ExitKindName(ExitKind::kOomKill), "oom_kill");
  EXPECT_STREQ(ExitKindName(ExitKind::kStartFailure), "start_failure");
}

}  // namespace
}  // namespace kitty
