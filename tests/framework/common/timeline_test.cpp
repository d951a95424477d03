#include "framework/common/timeline.hpp"

#include <gtest/gtest.h>

namespace convoy {
namespace {

using std::chrono::microseconds;

TEST(TimelineTest, SpansBecomeChromeCompleteEventsInMicrosecondsSinceTheOrigin) {
  const Timeline::Clock::time_point origin{};
  Timeline timeline(origin);
  timeline.add("conv1 forward", "compute", origin + microseconds(10), origin + microseconds(35));
  timeline.add("allreduce bucket 0", "allreduce", origin + microseconds(40),
               origin + microseconds(90));
  timeline.add("conv1 backward", "compute", origin + microseconds(50), origin + microseconds(80));
  const nlohmann::json events = timeline.chrome_trace_events(3, "rank 3");

  // Metadata first: the process name and sort index, then one thread per lane in the order the
  // lanes first appear.
  ASSERT_EQ(events.size(), 7u);
  EXPECT_EQ(events[0]["ph"], "M");
  EXPECT_EQ(events[0]["name"], "process_name");
  EXPECT_EQ(events[0]["args"]["name"], "rank 3");
  EXPECT_EQ(events[1]["name"], "process_sort_index");
  EXPECT_EQ(events[2]["name"], "thread_name");
  EXPECT_EQ(events[2]["tid"], 0);
  EXPECT_EQ(events[2]["args"]["name"], "compute");
  EXPECT_EQ(events[3]["tid"], 1);
  EXPECT_EQ(events[3]["args"]["name"], "allreduce");

  const nlohmann::json& backward = events[6];
  EXPECT_EQ(backward["ph"], "X");
  EXPECT_EQ(backward["name"], "conv1 backward");
  EXPECT_EQ(backward["cat"], "compute");
  EXPECT_EQ(backward["pid"], 3);
  EXPECT_EQ(backward["tid"], 0);
  EXPECT_DOUBLE_EQ(backward["ts"].get<double>(), 50.0);
  EXPECT_DOUBLE_EQ(backward["dur"].get<double>(), 30.0);
  EXPECT_EQ(events[5]["tid"], 1) << "the allreduce lies on its own lane";
  EXPECT_DOUBLE_EQ(events[5]["dur"].get<double>(), 50.0);
}

TEST(TimelineTest, AnEmptyTimelineNamesOnlyItsProcess) {
  const nlohmann::json events = Timeline().chrome_trace_events(0, "rank 0");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["args"]["name"], "rank 0");
}

}  // namespace
}  // namespace convoy
