// `convoy bench`: training speed on synthetic data, told truthfully: median images/s after
// warm-up, peak resident memory, a per-layer table, the shares of the step spent in reorders, in
// convoy's own kernel loops (Winograd transforms, im2col: kernel work outside oneDNN) and outside
// both kernels and the allreduce wait (framework overhead), and the step's GFLOP/s as a fraction of
// the machine's matmul peak measured in the same run. Under `mpirun -np P` it benchmarks the
// data-parallel step: --batch is the global batch, gradients go through the same bucketed,
// overlapped allreduce as `convoy train`, and it reports how much of the allreduce backward hid.

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>

#include <nlohmann/json.hpp>

#include "framework/common/median.hpp"
#include "framework/common/timeline.hpp"
#include "framework/distributed/communicator.hpp"
#include "framework/distributed/model_consistency.hpp"
#include "framework/distributed/reducer.hpp"
#include "framework/kernels/context.hpp"
#include "framework/kernels/kernel_timing.hpp"
#include "framework/kernels/peak_throughput.hpp"
#include "framework/loss/softmax_cross_entropy.hpp"
#include "framework/models/model_builder.hpp"
#include "framework/optim/sgd.hpp"
#include "launcher/command.hpp"
#include "launcher/model_factory.hpp"
#include "launcher/option_agreement.hpp"
#include "launcher/option_value.hpp"
#include "launcher/trace_recorder.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace po = boost::program_options;
using Clock = std::chrono::steady_clock;

static double peak_resident_megabytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // Linux reports kilobytes
}

int run_bench(const std::vector<std::string>& arguments) {
  RunConfig config;
  std::string input_text;
  int64_t batch = 0, steps = 20, warmup = 3, classes = 0;
  bool json = false, skip_peak = false;
  po::options_description options("Benchmark");
  options.add_options()("batch", po::value(&batch)->default_value(0),
                        "batch size (0: the recipe's)")("steps", defaulted(&steps), "timed steps")(
      "warmup", defaulted(&warmup), "untimed steps first")(
      "input", po::value(&input_text), "input shape CxHxW (default: the recipe dataset's)")(
      "classes", po::value(&classes)->default_value(0), "classes (default: the dataset's)")(
      "json", po::bool_switch(&json), "print one JSON object instead of tables")(
      "no-peak", po::bool_switch(&skip_peak), "skip the matmul peak measurement");
  add_run_options(options, config);
  if (!parse_command_line(arguments, options,
                          "usage: convoy bench --recipe NAME [--batch B] [--steps N] "
                          "[--input CxHxW] [--threads T] [--precision fp32|bf16]",
                          &config)) {
    return kExitSuccess;
  }
  const DataType compute_type = compute_type_of(config.precision);
  if (steps < 1) throw UsageError("--steps must be at least 1");
  if (warmup < 0) throw UsageError("--warmup must be at least 0, got " + std::to_string(warmup));
  if (batch < 0) {
    throw UsageError("--batch must be at least 1 (or 0 for the recipe's), got " +
                     std::to_string(batch));
  }
  Communicator communicator;
  verify_ranks_share_options(communicator, config,
                             {"batch = " + std::to_string(batch), "steps = " + std::to_string(steps),
                              "warmup = " + std::to_string(warmup), "input = " + input_text,
                              "classes = " + std::to_string(classes)});
  const int ranks = communicator.world_size();
  kernels::set_thread_count(config.threads > 0 ? config.threads
                                               : communicator.recommended_threads());
  ModelGeometry geometry = model_geometry(config);
  override_geometry(geometry, input_text, classes);
  if (batch == 0) batch = config.batch_size;
  if (batch % ranks != 0) {
    throw UsageError("--batch " + std::to_string(batch) + " is the global batch and must be " +
                     "divisible by the " + std::to_string(ranks) + " ranks");
  }
  const int64_t global_batch = batch;
  batch /= ranks;  // this rank's share from here on

  std::unique_ptr<TraceRecorder> trace;  // --trace: the timed steps
  if (!config.trace.empty()) trace = std::make_unique<TraceRecorder>(config.trace, communicator);
  const kernels::PeakThroughput peak =
      skip_peak ? kernels::PeakThroughput{} : kernels::measure_peak_throughput(compute_type);

  auto net = build_model(model_config(config, geometry));
  net->set_input_gradient_needed(false);  // as in training
  verify_same_model(communicator, *net);
  broadcast_parameters(communicator, net->parameters(), net->buffers());
  std::unique_ptr<Reducer> reducer;
  if (ranks > 1) {
    ReducerOptions reducer_options;
    reducer_options.bucket_bytes = static_cast<int64_t>(config.bucket_megabytes * 1024 * 1024);
    reducer_options.compress_bf16 = config.compress_bf16;
    reducer = std::make_unique<Reducer>(communicator, net->parameters(), reducer_options);
  }
  SgdOptions sgd;
  sgd.momentum = 0.9;
  sgd.weight_decay = 1e-4;
  SGD optimizer(net->parameters(), sgd);
  SoftmaxCrossEntropy loss;
  std::mt19937_64 generator(config.seed + communicator.rank());
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  std::vector<float> images(
      static_cast<size_t>(batch * geometry.channels * geometry.height * geometry.width));
  for (auto& value : images) value = pixel(generator);
  std::vector<int32_t> labels(static_cast<size_t>(batch));
  for (auto& label : labels) label = static_cast<int32_t>(generator() % geometry.classes);
  Tensor input =
      Tensor::from_plain({batch, geometry.channels, geometry.height, geometry.width}, images);

  ReducerTiming communication;  // summed over the timed steps
  auto train_step = [&] {
    const auto step_start = Timeline::Clock::now();
    Tensor logits = net->forward(input, Mode::train);
    loss.forward(logits, labels, static_cast<double>(global_batch));
    if (!reducer) {
      net->backward(loss.gradient());
    } else {
      reducer->start_step();
      net->backward(loss.gradient(),
                    [&](std::span<const int> indices) { reducer->gradients_ready(indices); });
      reducer->finalize();
      communication.communication_seconds += reducer->last_timing().communication_seconds;
      communication.exposed_seconds += reducer->last_timing().exposed_seconds;
    }
    const auto optimizer_start = Timeline::Clock::now();
    optimizer.step(0.01);
    if (trace) {
      const auto end = Timeline::Clock::now();
      trace->add("optimizer", "compute", optimizer_start, end);
      trace->add("step", "compute", step_start, end);
    }
  };
  for (int64_t i = 0; i < warmup; ++i) train_step();

  net->set_profiling(true);
  net->reset_layer_timings();
  kernels::set_kernel_timing(true);
  kernels::reset_kernel_timing();
  communication = {};
  if (trace) trace->start(*net, reducer.get());
  std::vector<double> step_seconds;
  for (int64_t i = 0; i < steps; ++i) {
    const auto start = Clock::now();
    train_step();
    step_seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
  }
  kernels::set_kernel_timing(false);
  if (trace) {
    trace->finish();
    if (communicator.rank() == 0) {
      std::fprintf(stderr, "trace of the timed steps: %s (ui.perfetto.dev or chrome://tracing)\n",
                   trace->path().c_str());
    }
  }
  const auto kernel = kernels::kernel_timing();
  const auto layers = net->layer_timings();

  double total_seconds = 0;
  for (double s : step_seconds) total_seconds += s;
  const double step_median = median(step_seconds);
  // The fastest step is the one a shared machine disturbed least: the steadier figure to
  // compare runs by where neighbours come and go (beside the median, which counts them).
  const double step_min = *std::min_element(step_seconds.begin(), step_seconds.end());
  int64_t forward_flops = 0;
  for (const auto& layer : layers) forward_flops += layer.forward_flops;
  // Training ~ 3 x forward (forward, backward-data, backward-weights); 2 FLOPs per MAC.
  const double step_gflop = 3.0 * 2.0 * forward_flops * ranks / 1e9;
  const double achieved = step_gflop / step_median;
  // Waiting for the allreduce is communication, and the kernel layer's own loops (Winograd
  // transforms, im2col) are kernel compute that oneDNN would count inside its primitives: neither
  // is framework overhead. Both are reported on their own.
  const double inside = kernel.compute_seconds + kernel.reorder_seconds + kernel.own_loop_seconds +
                        communication.exposed_seconds;
  const double overhead_share = std::max(0.0, 1.0 - inside / total_seconds);
  const double reorder_share = kernel.reorder_seconds / total_seconds;
  const double own_loop_share = kernel.own_loop_seconds / total_seconds;
  const double reference_share = kernel.reference_seconds / total_seconds;
  // Every rank measured its own peak with its own threads at the same time: the job's peak is
  // their sum. Memory: the largest rank.
  std::array<double, 1> peak_sum{peak.gflops};
  communicator.allreduce_sum(std::span<double>(peak_sum));
  const double peak_gflops = peak_sum[0];
  uint64_t peak_rss_kb = 0;
  for (uint64_t kb :
       communicator.allgather(static_cast<uint64_t>(peak_resident_megabytes() * 1024))) {
    peak_rss_kb = std::max(peak_rss_kb, kb);
  }
  const double peak_rss_mb = peak_rss_kb / 1024.0;
  const double gradient_buffer_mb = net->gradient_buffers().bytes() / (1024.0 * 1024.0);
  const double activation_mb = net->activation_bytes() / (1024.0 * 1024.0);
  if (communicator.rank() != 0) return kExitSuccess;

  nlohmann::json report = {
      {"architecture", config.architecture},
      {"variant", config.variant},
      {"batch", global_batch},
      {"ranks", ranks},
      {"input", {geometry.channels, geometry.height, geometry.width}},
      {"threads", kernels::thread_count()},
      {"precision", config.precision},
      {"isa", kernels::cpu_isa_name()},
      {"steps", steps},
      {"images_per_second", global_batch / step_median},
      {"ms_per_step_median", step_median * 1e3},
      {"ms_per_step_min", step_min * 1e3},
      {"peak_rss_mb", peak_rss_mb},
      {"gradient_buffers", net->gradient_buffers().buffer_count()},
      {"gradient_buffer_mb", gradient_buffer_mb},
      {"activation_mb", activation_mb},
      {"step_gflop", step_gflop},
      {"achieved_gflops", achieved},
      {"peak_gflops", peak_gflops},
      {"fraction_of_peak", peak_gflops > 0 ? achieved / peak_gflops : 0.0},
      {"allreduce_ms_per_step", communication.communication_seconds / steps * 1e3},
      {"exposed_allreduce_ms_per_step", communication.exposed_seconds / steps * 1e3},
      {"allreduce_hidden_fraction", communication.hidden_fraction()},
      {"buckets", reducer ? reducer->buckets().size() : 0},
      {"framework_overhead_share", overhead_share},
      {"reorder_share", reorder_share},
      {"own_kernel_loop_share", own_loop_share},
      {"reference_loop_share", reference_share}};
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& layer : layers) {
      rows.push_back({{"name", layer.name},
                      {"forward_ms", layer.forward_seconds / steps * 1e3},
                      {"backward_ms", layer.backward_seconds / steps * 1e3},
                      {"forward_reorder_ms", layer.forward_reorder_seconds / steps * 1e3},
                      {"backward_reorder_ms", layer.backward_reorder_seconds / steps * 1e3},
                      {"implementation", layer.implementation}});
    }
    report["layers"] = rows;
    std::cout << report.dump() << std::endl;
    return kExitSuccess;
  }
  std::printf("%s (%s) batch %lld input %lldx%lldx%lld, %d rank(s) x %d thread(s), %s, ISA %s\n",
              config.architecture.c_str(), config.variant.c_str(),
              static_cast<long long>(global_batch), static_cast<long long>(geometry.channels),
              static_cast<long long>(geometry.height), static_cast<long long>(geometry.width),
              ranks, kernels::thread_count(), config.precision.c_str(), kernels::cpu_isa_name());
  std::printf(
      "images/s %.1f (median of %lld steps), %.2f ms/step (fastest %.2f), peak RSS %.0f MB%s\n",
      global_batch / step_median, static_cast<long long>(steps), step_median * 1e3, step_min * 1e3,
      peak_rss_mb, ranks > 1 ? " (largest rank)" : "");
  std::printf(
      "activations kept for backward: %.0f MB; gradient buffers: %zu recycled through "
      "backward, %.0f MB\n",
      activation_mb, net->gradient_buffers().buffer_count(), gradient_buffer_mb);
  if (reducer) {
    std::printf(
        "allreduce: %zu bucket(s), %.2f ms/step in flight, %.2f ms/step exposed: %.0f %% hidden "
        "behind backward\n",
        reducer->buckets().size(), communication.communication_seconds / steps * 1e3,
        communication.exposed_seconds / steps * 1e3, 100 * communication.hidden_fraction());
  }
  if (peak_gflops > 0) {
    std::printf("achieved %.1f GFLOP/s of a %.1f GFLOP/s matmul peak (%.0f %%); ", achieved,
                peak_gflops, 100 * achieved / peak_gflops);
  } else {
    std::printf("achieved %.1f GFLOP/s (matmul peak not measured: --no-peak); ", achieved);
  }
  std::printf(
      "framework overhead %.1f %%, reorders %.1f %%, convoy's own kernel loops (Winograd "
      "transforms, im2col, ...) %.1f %% of the step\n",
      100 * overhead_share, 100 * reorder_share, 100 * own_loop_share);
  if (kernel.reference_calls > 0) {
    std::printf(
        "warning: %.1f %% of the step ran in oneDNN's unoptimized reference loops (%lld calls): "
        "no optimized implementation for some shape on ISA %s; ONEDNN_VERBOSE=1 names them\n",
        100 * reference_share, static_cast<long long>(kernel.reference_calls),
        kernels::cpu_isa_name());
  }
  auto sorted = layers;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.forward_seconds + a.backward_seconds > b.forward_seconds + b.backward_seconds;
  });
  // "reorder ms": the part of fwd + bwd spent converting layouts (the layer's inputs, outputs,
  // weights and gradients, and its input gradients' fan-out sums), so a layout mismatch between
  // neighbours shows on the rows that pay for it.
  std::printf("\n%-28s %-40s %10s %10s %11s %9s %7s  %s\n", "layer", "type", "fwd ms", "bwd ms",
              "reorder ms", "GFLOP/s", "share", "oneDNN implementation");
  for (const auto& layer : sorted) {
    const double seconds = (layer.forward_seconds + layer.backward_seconds) / steps;
    const double reorder_seconds =
        (layer.forward_reorder_seconds + layer.backward_reorder_seconds) / steps;
    const double gflops = seconds > 0 ? 3.0 * 2.0 * layer.forward_flops / 1e9 / seconds : 0.0;
    const std::string description = layer.description.substr(0, 40);
    std::printf("%-28s %-40s %10.3f %10.3f %11.3f %9.1f %6.1f%%%s%s\n", layer.name.c_str(),
                description.c_str(), layer.forward_seconds / steps * 1e3,
                layer.backward_seconds / steps * 1e3, reorder_seconds * 1e3, gflops,
                100 * seconds * steps / total_seconds, layer.implementation.empty() ? "" : "  ",
                layer.implementation.c_str());
  }
  return kExitSuccess;
}

}  // namespace convoy::launcher
