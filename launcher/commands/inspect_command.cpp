// `convoy inspect PATH`: what a checkpoint holds — recipe, step, metrics at save time, tensors
// and shapes — read without building a model. --hash prints a hash of the model's values
// (equal hashes: bit-identical parameters and buffers), for scripts comparing runs.

#include <xxhash.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "checkpoints/checkpoint_reader.hpp"
#include "launcher/command.hpp"
#include "launcher/run_config.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

int run_inspect(const std::vector<std::string>& arguments) {
  namespace po = boost::program_options;
  std::string path;
  bool hash = false, json = false, configuration = false;
  po::options_description options("Inspect");
  options.add_options()("checkpoint", po::value(&path),
                        "checkpoint file (also the first positional argument)")(
      "hash", po::bool_switch(&hash), "print only an XXH3 hash of the model tensors' values")(
      "json", po::bool_switch(&json), "print as JSON")(
      "configuration", po::bool_switch(&configuration), "also print the stored configuration");
  // The checkpoint may also be given as a plain argument, anywhere on the line.
  std::vector<std::string> rest;
  for (const auto& argument : arguments) {
    if (!argument.starts_with("-") && path.empty() &&
        (rest.empty() || rest.back() != "--checkpoint")) {
      path = argument;
    } else {
      rest.push_back(argument);
    }
  }
  if (!parse_command_line(rest, options, "usage: convoy inspect PATH [--hash] [--json]", nullptr)) {
    return kExitSuccess;
  }
  if (path.empty()) throw UsageError("convoy inspect needs a checkpoint path (see --help)");
  if (hash) {
    const Checkpoint checkpoint = CheckpointReader::read(path);
    XXH3_state_t* state = XXH3_createState();
    XXH3_64bits_reset(state);
    for (const auto& array : checkpoint.model) {
      XXH3_64bits_update(state, array.name.data(), array.name.size());
      XXH3_64bits_update(state, array.values.data(), array.values.size() * sizeof(float));
    }
    std::printf("%016llx\n", static_cast<unsigned long long>(XXH3_64bits_digest(state)));
    XXH3_freeState(state);
    return kExitSuccess;
  }
  const CheckpointInfo info = CheckpointReader::read_info(path);
  auto tensors = [](const std::vector<TensorInfo>& list) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& t : list) out[t.name] = t.shape;
    return out;
  };
  nlohmann::json metrics = info.metrics_json.empty() ? nlohmann::json(nullptr)
                                                     : nlohmann::json::parse(info.metrics_json);
  if (json) {
    nlohmann::json out = {{"path", path},
                          {"format_version", info.format_version},
                          {"recipe", info.recipe},
                          {"epoch", info.epoch},
                          {"step", info.step},
                          {"world_size", info.world_size},
                          {"global_batch", info.global_batch},
                          {"input_shape", info.input_shape},
                          {"convoy_version", info.convoy_version},
                          {"metrics", metrics},
                          {"optimizer", info.optimizer_scalars},
                          {"schedule", info.schedule},
                          {"data",
                           {{"sampler_seed", info.data.sampler_seed},
                            {"epoch", info.data.epoch},
                            {"global_position", info.data.global_position}}},
                          {"model", tensors(info.model)},
                          {"optimizer_state", tensors(info.optimizer)},
                          {"model_ema", tensors(info.model_ema)}};
    if (configuration) out["configuration"] = info.configuration;
    std::cout << out.dump(2) << std::endl;
    return kExitSuccess;
  }
  int64_t parameters = 0;
  for (const auto& t : info.model) parameters += element_count(t.shape);
  std::printf("%s\n  format convoy.checkpoint v%lld, written by convoy %s\n", path.c_str(),
              static_cast<long long>(info.format_version), info.convoy_version.c_str());
  std::printf("  recipe %s, epoch %lld, step %lld, %lld rank(s), global batch %lld, input %s\n",
              info.recipe.c_str(), static_cast<long long>(info.epoch),
              static_cast<long long>(info.step), static_cast<long long>(info.world_size),
              static_cast<long long>(info.global_batch),
              info.input_shape.empty() ? "not stored" : to_string(info.input_shape).c_str());
  std::printf("  metrics at save: %s\n", metrics.is_null() ? "none" : metrics.dump().c_str());
  std::printf("  data: seed %llu, epoch %lld, position %lld (global samples)\n",
              static_cast<unsigned long long>(info.data.sampler_seed),
              static_cast<long long>(info.data.epoch),
              static_cast<long long>(info.data.global_position));
  std::printf("  model: %zu tensors, %lld values; optimizer state: %zu tensors\n",
              info.model.size(), static_cast<long long>(parameters), info.optimizer.size());
  std::printf("  model EMA: %s\n",
              info.model_ema.empty()
                  ? "none"
                  : (std::to_string(info.model_ema.size()) + " tensors").c_str());
  for (const auto& t : info.model)
    std::printf("    %-44s %s\n", t.name.c_str(), to_string(t.shape).c_str());
  if (configuration) std::printf("configuration:\n%s", info.configuration.c_str());
  return kExitSuccess;
}

}  // namespace convoy::launcher
