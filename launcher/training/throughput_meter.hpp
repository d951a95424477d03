#pragma once
// ThroughputMeter: training images per second over windows of consecutive steps, as the
// progress log prints them. Time between epochs (evaluation, checkpoints) is no training time:
// restart() leaves it out, so the first window of an epoch measures steps only. Until that
// window closes, the rate is the open window's, not the previous epoch's last one.

#include <chrono>
#include <cstdint>

namespace convoy::launcher {

class ThroughputMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // A window closes once it spans at least this long, so one slow step does not swing the rate.
  explicit ThroughputMeter(double min_window_seconds = 2.0)
      : min_window_seconds_(min_window_seconds), window_start_(Clock::now()) {}

  // Opens a new window at `now`, dropping the images and time counted since the last close;
  // the last closed window's rate no longer counts.
  void restart(Clock::time_point now = Clock::now()) {
    open_window(now);
    since_restart_ = true;
  }

  // Counts a finished step of `images`; the window closes when long enough or when `close`
  // (the epoch's last step), and its rate becomes images_per_second().
  void step_finished(int64_t images, bool close, Clock::time_point now = Clock::now()) {
    images_ += images;
    last_step_ = now;
    const double seconds = std::chrono::duration<double>(now - window_start_).count();
    if (seconds >= min_window_seconds_ || (close && seconds > 0)) {
      images_per_second_ = static_cast<double>(images_) / seconds;
      since_restart_ = false;
      open_window(now);
    }
  }

  // The rate of the last closed window; after restart(), until a window closes, the rate of
  // the steps so far in the open one (0 before its first step).
  double images_per_second() const {
    if (!since_restart_) return images_per_second_;
    const double seconds = std::chrono::duration<double>(last_step_ - window_start_).count();
    return images_ > 0 && seconds > 0 ? static_cast<double>(images_) / seconds : 0.0;
  }

 private:
  double min_window_seconds_;
  void open_window(Clock::time_point now) {
    window_start_ = now;
    images_ = 0;
  }

  Clock::time_point window_start_, last_step_;
  int64_t images_ = 0;
  double images_per_second_ = 0;
  bool since_restart_ = true;  // no window has closed since the last restart()
};

}  // namespace convoy::launcher
