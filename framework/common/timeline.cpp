#include "framework/common/timeline.hpp"

#include <algorithm>

namespace convoy {

void Timeline::add(std::string name, std::string lane, Clock::time_point start,
                   Clock::time_point end) {
  using Microseconds = std::chrono::duration<double, std::micro>;
  spans_.push_back({std::move(name), std::move(lane), Microseconds(start - origin_).count(),
                    Microseconds(end - start).count()});
}

nlohmann::json Timeline::chrome_trace_events(int process, const std::string& process_name) const {
  std::vector<std::string> lanes;
  for (const auto& span : spans_) {
    if (std::find(lanes.begin(), lanes.end(), span.lane) == lanes.end()) lanes.push_back(span.lane);
  }
  auto lane_id = [&](const std::string& lane) {
    return static_cast<int>(std::find(lanes.begin(), lanes.end(), lane) - lanes.begin());
  };
  nlohmann::json events = nlohmann::json::array();
  events.push_back({{"ph", "M"},
                    {"name", "process_name"},
                    {"pid", process},
                    {"args", {{"name", process_name}}}});
  events.push_back(
      {{"ph", "M"}, {"name", "process_sort_index"}, {"pid", process}, {"args", {{"sort_index", process}}}});
  for (const auto& lane : lanes) {
    events.push_back({{"ph", "M"},
                      {"name", "thread_name"},
                      {"pid", process},
                      {"tid", lane_id(lane)},
                      {"args", {{"name", lane}}}});
  }
  for (const auto& span : spans_) {
    events.push_back({{"ph", "X"},
                      {"name", span.name},
                      {"cat", span.lane},
                      {"pid", process},
                      {"tid", lane_id(span.lane)},
                      {"ts", span.start_us},
                      {"dur", span.duration_us}});
  }
  return events;
}

}  // namespace convoy
