// The progress log's images/s: windows of steps only. The main job's log once showed 22
// images/s right after an evaluation, because the window that closed with the epoch's last
// step reopened before the evaluation and the checkpoint, and the next window counted them.
#include "launcher/training/throughput_meter.hpp"

#include <gtest/gtest.h>

namespace convoy::launcher {
namespace {

using std::chrono::milliseconds;

TEST(ThroughputMeterTest, AWindowClosesAfterItsMinimumSpanOrAtTheEpochsLastStep) {
  const auto t0 = ThroughputMeter::Clock::time_point{};
  ThroughputMeter meter(2.0);
  meter.restart(t0);
  EXPECT_EQ(meter.images_per_second(), 0.0);  // no step yet
  meter.step_finished(128, false, t0 + milliseconds(1000));
  EXPECT_DOUBLE_EQ(meter.images_per_second(), 128 / 1.0);  // 1 s: still open, its rate so far
  meter.step_finished(128, false, t0 + milliseconds(2500));
  EXPECT_DOUBLE_EQ(meter.images_per_second(), 256 / 2.5);
  meter.step_finished(64, true, t0 + milliseconds(3000));  // the epoch's last step, 0.5 s
  EXPECT_DOUBLE_EQ(meter.images_per_second(), 64 / 0.5);
}

TEST(ThroughputMeterTest, TimeBetweenEpochsIsLeftOutByRestart) {
  const auto t0 = ThroughputMeter::Clock::time_point{};
  ThroughputMeter meter(2.0);
  meter.restart(t0);
  meter.step_finished(128, true, t0 + milliseconds(1000));  // epoch ends: 128 images/s
  // 30 s of evaluation and checkpointing, then the next epoch restarts the window.
  meter.restart(t0 + milliseconds(31000));
  meter.step_finished(32, false, t0 + milliseconds(31500));
  // The window is still open: its own steps' rate, not the last epoch's 128 images/s.
  EXPECT_DOUBLE_EQ(meter.images_per_second(), 32 / 0.5);
  meter.step_finished(224, false, t0 + milliseconds(33000));
  EXPECT_DOUBLE_EQ(meter.images_per_second(), 256 / 2.0);

  // Without the restart, the same steps would report the pause (the bug this prevents).
  ThroughputMeter unrestarted(2.0);
  unrestarted.restart(t0);
  unrestarted.step_finished(128, true, t0 + milliseconds(1000));
  unrestarted.step_finished(128, false, t0 + milliseconds(32000));
  EXPECT_LT(unrestarted.images_per_second(), 5.0);
}

}  // namespace
}  // namespace convoy::launcher
