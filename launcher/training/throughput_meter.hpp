#pragma once
// ThroughputMeter: training images per second over windows of consecutive steps, as the
// progress log prints them. Time between epochs (evaluation, checkpoints) is no training time:
// restart() leaves it out, so the first window of an epoch measures steps only.

#include <chrono>
#include <cstdint>

namespace convoy::launcher {

class ThroughputMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // A window closes once it spans at least this long, so one slow step does not swing the rate.
  explicit ThroughputMeter(double min_window_seconds = 2.0)
      : min_window_seconds_(min_window_seconds), window_start_(Clock::now()) {}

  // Opens a new window at `now`, dropping the images and time counted since the last close.
  void restart(Clock::time_point now = Clock::now()) {
    window_start_ = now;
    images_ = 0;
  }

  // Counts a finished step of `images`; the window closes when long enough or when `close`
  // (the epoch's last step), and its rate becomes images_per_second().
  void step_finished(int64_t images, bool close, Clock::time_point now = Clock::now()) {
    images_ += images;
    const double seconds = std::chrono::duration<double>(now - window_start_).count();
    if (seconds >= min_window_seconds_ || (close && seconds > 0)) {
      images_per_second_ = static_cast<double>(images_) / seconds;
      restart(now);
    }
  }

  // The rate of the last closed window, 0 before the first closes.
  double images_per_second() const { return images_per_second_; }

 private:
  double min_window_seconds_;
  Clock::time_point window_start_;
  int64_t images_ = 0;
  double images_per_second_ = 0;
};

}  // namespace convoy::launcher
