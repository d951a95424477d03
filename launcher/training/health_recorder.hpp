#pragma once
// HealthRecorder: one {"kind": "health"} record of per-layer training-health statistics,
// taken around an optimizer step (rank 0, every --health-every steps). `convoy health` and
// scripts/plot_health.py read these records from metrics.jsonl.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "framework/graph/net.hpp"

namespace convoy::launcher {

class HealthRecorder {
 public:
  // Before the optimizer step (and before gradient clipping): copies every parameter value
  // and gradient, and takes activation statistics of the last forward's outputs.
  void before_update(const Net& net);
  // After the optimizer step: the record for global step `step`, with update ratios.
  nlohmann::json after_update(int64_t step);

 private:
  struct LayerSnapshot {
    std::string name;  // node name, "#2" appended when a name repeats
    std::string type;  // "Conv2d", "ReLU", "BatchNorm2d+ReLU" ...
    std::vector<Parameter*> parameters;
    std::vector<std::vector<float>> values_before, gradients;
    nlohmann::json activation;  // empty unless the node's output is an activation
  };
  std::vector<LayerSnapshot> layers_;
};

}  // namespace convoy::launcher
