#pragma once
// The content of one convoy checkpoint as plain data: the trainer fills it from the Net, the
// optimizer, the schedule, the sampler and the generators; CheckpointWriter stores it and
// CheckpointReader gives it back. checkpoints/FORMAT.md describes the file.
//
// Why a plain struct and not a callback into the Net:
// 1. The checkpoint code must not depend on the graph code; a flat list of named float arrays
//    is what both PyTorch (state_dict) and HDF5 (one dataset per tensor) already speak.
// 2. Tests and tools (convoy inspect, the Python converter) build and compare checkpoints
//    without constructing a model.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "framework/common/shape.hpp"

namespace convoy {

// The name of the format in the root "format" attribute and the version this build writes.
inline constexpr const char* kCheckpointFormatName = "convoy.checkpoint";
inline constexpr int64_t kCheckpointFormatVersion = 1;

// One float32 tensor in canonical plain layout (row-major over `shape`: OIHW conv weights,
// [out, in] Linear weights). A rank-0 shape ({}) holds one value.
struct NamedArray {
  std::string name;  // dotted torchvision-style name, e.g. "layer1.0.bn1.running_mean"
  Shape shape;
  std::vector<float> values;  // element_count(shape) values
};

// One named array of raw generator state (seeds, counters, engine words).
struct NamedUint64Array {
  std::string name;  // e.g. "dropout", "augmentation"
  std::vector<uint64_t> values;
};

// Where the data sampler stands, so a resume continues with the very next sample.
struct DataState {
  uint64_t sampler_seed = 0;
  int64_t epoch = 0;
  // Samples of `epoch` already consumed by all ranks together (GLOBAL count), so a resume on
  // a different number of ranks restarts at the same place in the global order.
  int64_t global_position = 0;
};

// Everything a checkpoint carries except the tensors: what read_info returns without loading
// values, and the common part of Checkpoint.
struct CheckpointAttributes {
  std::string recipe;
  int64_t epoch = 0;
  int64_t step = 0;
  int64_t world_size = 1;
  int64_t global_batch = 0;
  // (C, H, W) of the images the model was trained on; empty where unknown (a checkpoint from
  // PyTorch or from an older convoy does not say).
  Shape input_shape;
  std::string configuration;  // full effective configuration, "key = value" lines
  std::string convoy_version = CONVOY_VERSION;
  std::string metrics_json;  // metrics at save time as JSON text, may be empty
  // Optimizer hyperparameters and counters (e.g. "lr", "momentum", "step"): /optimizer attrs.
  std::map<std::string, double> optimizer_scalars;
  // Learning-rate schedule state (e.g. "last_epoch", "base_lr"): /schedule attrs.
  std::map<std::string, double> schedule;
  DataState data;
};

// A full checkpoint: attributes plus every tensor's values.
struct Checkpoint : CheckpointAttributes {
  // Parameters AND buffers under their dotted names: a PyTorch state_dict.
  std::vector<NamedArray> model;
  // Per-parameter optimizer state named "<parameter name>.<state name>" using PyTorch's state
  // names, e.g. "fc.weight.momentum_buffer", "fc.weight.exp_avg", "fc.weight.exp_avg_sq".
  std::vector<NamedArray> optimizer;
  std::vector<NamedUint64Array> rng;
  // With --model-ema: the moving average under the same names as `model` (/model_ema), and
  // how many updates it holds since its last restart (torchvision's n_averaged). Empty without.
  std::vector<NamedArray> model_ema;
  int64_t model_ema_updates = 0;
};

// The name and shape of one stored tensor, read without its values.
struct TensorInfo {
  std::string name;
  Shape shape;
};

// What read_info returns: the attributes and each tensor's name and shape, in stored order.
struct CheckpointInfo : CheckpointAttributes {
  int64_t format_version = 0;
  std::vector<TensorInfo> model;
  std::vector<TensorInfo> optimizer;
  std::vector<TensorInfo> rng;        // rank-1 shapes
  std::vector<TensorInfo> model_ema;  // empty without --model-ema
};

}  // namespace convoy
