#include "launcher/trace_recorder.hpp"

#include <nlohmann/json.hpp>

#include "framework/common/error.hpp"

namespace convoy::launcher {

TraceRecorder::TraceRecorder(std::string path, Communicator& communicator)
    : path_(std::move(path)), communicator_(communicator) {
  if (communicator_.rank() != 0) return;
  file_.open(path_);
  if (!file_) throw FileError(path_ + ": cannot write the trace (--trace)");
}

void TraceRecorder::start(Net& net, Reducer* reducer) {
  communicator_.barrier();  // every rank's origin at the same moment (see Timeline)
  timeline_ = std::make_unique<Timeline>();
  net_ = &net;
  reducer_ = reducer;
  net_->set_timeline(timeline_.get());
  if (reducer_) reducer_->set_timeline(timeline_.get());
}

void TraceRecorder::add(const std::string& name, const std::string& lane,
                        Timeline::Clock::time_point start, Timeline::Clock::time_point end) {
  if (timeline_) timeline_->add(name, lane, start, end);
}

size_t TraceRecorder::finish() {
  if (!timeline_) return 0;
  net_->set_timeline(nullptr);
  if (reducer_) reducer_->set_timeline(nullptr);
  const int rank = communicator_.rank();
  const std::string events =
      timeline_->chrome_trace_events(rank, "rank " + std::to_string(rank)).dump();
  const std::vector<std::string> all = communicator_.gather(events, 0);
  const size_t spans = timeline_->spans().size();
  timeline_.reset();
  finished_ = true;
  if (rank != 0) return spans;
  nlohmann::json trace = {{"displayTimeUnit", "ms"}, {"traceEvents", nlohmann::json::array()}};
  for (const auto& text : all) {
    for (auto& event : nlohmann::json::parse(text))
      trace["traceEvents"].push_back(std::move(event));
  }
  file_ << trace.dump() << "\n";
  file_.close();
  if (!file_) throw FileError(path_ + ": cannot write the trace (--trace)");
  return spans;
}

}  // namespace convoy::launcher
