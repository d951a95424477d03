// `convoy bench-allreduce`: the allreduce against its bandwidth bound on the link it runs on.
// Under `mpirun -np P`, for each size N: MPI_Allreduce of N bytes beside the ring bound
// 2(P-1)/P * N / B, where B is the point-to-point bandwidth measured by ping-pong between two
// ranks with the ring's own message size N/P (on one node B depends on the size: small messages
// stay in cache). Optionally adds the gradient size of a recipe's model.

#include <cstdio>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "framework/distributed/collective_benchmark.hpp"
#include "framework/models/model_builder.hpp"
#include "launcher/command.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/option_value.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;

static std::vector<double> parse_sizes(const std::string& text) {
  std::vector<double> sizes;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    try {
      size_t used = 0;
      const double megabytes = std::stod(item, &used);
      if (used != item.size() || megabytes <= 0 || megabytes > 1024) throw std::out_of_range("");
      sizes.push_back(megabytes);
    } catch (const std::exception&) {
      throw UsageError("--sizes-mb: '" + item +
                       "' is not a size in MB between 0 and 1024 (e.g. 0.25,1,25)");
    }
  }
  if (sizes.empty()) throw UsageError("--sizes-mb is empty");
  return sizes;
}

int run_allreduce_bench(const std::vector<std::string>& arguments) {
  RunConfig config;
  std::string sizes_text = "0.004,0.0625,0.25,1,4,16,64";
  double link_megabytes = 64;
  int repetitions = 20;
  bool json = false;
  po::options_description options("Allreduce benchmark");
  options.add_options()("sizes-mb", defaulted(&sizes_text),
                        "comma-separated allreduce sizes in MB")(
      "link-mb", defaulted(&link_megabytes), "ping-pong message size for the link bandwidth, MB")(
      "repetitions", defaulted(&repetitions), "timed repetitions per size (median reported)")(
      "json", po::bool_switch(&json), "print one JSON object instead of a table");
  add_run_options(options, config);
  if (!parse_command_line(arguments, options,
                          "usage: mpirun -np P convoy bench-allreduce [--sizes-mb 1,25] "
                          "[--recipe NAME: add its gradient size]",
                          &config)) {
    return kExitSuccess;
  }
  if (repetitions < 1) throw UsageError("--repetitions must be at least 1");
  if (!(link_megabytes > 0 && link_megabytes <= 1024)) {
    std::ostringstream message;
    message << "--link-mb must be a size in MB above 0 and at most 1024, got " << link_megabytes;
    throw UsageError(message.str());
  }
  std::vector<double> sizes = parse_sizes(sizes_text);
  Communicator communicator;
  const int ranks = communicator.world_size();
  if (ranks < 2) {
    throw UsageError(
        "bench-allreduce needs at least two ranks: mpirun -np 2 convoy bench-allreduce");
  }
  std::string model_label;
  if (!config.recipe.empty()) {
    auto net = build_model(model_config(config, model_geometry(config)));
    sizes.push_back(net->parameter_count() * 4 / 1e6);
    model_label = config.architecture;
  }

  const auto link_bytes = static_cast<int64_t>(link_megabytes * 1e6);
  const double bandwidth = measure_link_bandwidth(communicator, link_bytes, repetitions);
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < sizes.size(); ++i) {
    const auto floats = std::max<int64_t>(1, static_cast<int64_t>(sizes[i] * 1e6 / 4));
    const int64_t bytes = floats * 4;
    const double link =
        measure_link_bandwidth(communicator, std::max<int64_t>(1, bytes / ranks), repetitions);
    const double seconds = measure_allreduce_seconds(communicator, floats, repetitions);
    const double bound = allreduce_bandwidth_bound_seconds(bytes, ranks, link);
    const bool is_model = !model_label.empty() && i + 1 == sizes.size();
    rows.push_back({{"bytes", bytes},
                    {"what", is_model ? model_label + " gradients" : ""},
                    {"link_bandwidth_gbs", link / 1e9},
                    {"allreduce_ms", seconds * 1e3},
                    {"bound_ms", bound * 1e3},
                    // nccl-tests' "bus bandwidth": comparable with B whatever the rank count
                    {"bus_bandwidth_gbs", 2.0 * (ranks - 1) / ranks * bytes / seconds / 1e9},
                    {"fraction_of_bound", bound / seconds}});
  }
  if (communicator.rank() != 0) return kExitSuccess;
  if (json) {
    nlohmann::json report = {{"ranks", ranks},
                             {"link_bandwidth_gbs", bandwidth / 1e9},
                             {"link_message_bytes", link_bytes},
                             {"repetitions", repetitions},
                             {"rows", rows}};
    std::cout << report.dump() << std::endl;
    return kExitSuccess;
  }
  std::printf(
      "%d ranks; large-message link bandwidth %.2f GB/s (ping-pong of %.0f MB, rank 0 <-> 1)\n",
      ranks, bandwidth / 1e9, link_megabytes);
  std::printf(
      "bound = 2(p-1)/p * N / B(N/p), B by ping-pong of the ring's message size N/p; "
      "medians of %d repetitions\n\n",
      repetitions);
  std::printf("%12s %10s %12s %12s %10s %10s  %s\n", "bytes N", "B GB/s", "allreduce ms",
              "bound ms", "bus GB/s", "of bound", "");
  for (const auto& row : rows) {
    std::printf("%12lld %10.2f %12.3f %12.3f %10.2f %9.0f%%  %s\n",
                static_cast<long long>(row["bytes"].get<int64_t>()),
                row["link_bandwidth_gbs"].get<double>(), row["allreduce_ms"].get<double>(),
                row["bound_ms"].get<double>(), row["bus_bandwidth_gbs"].get<double>(),
                100 * row["fraction_of_bound"].get<double>(),
                row["what"].get<std::string>().c_str());
  }
  return kExitSuccess;
}

}  // namespace convoy::launcher
