#pragma once
// HealthReport: the {"kind": "health"} records of a run's metrics.jsonl gathered per layer,
// with the flags `convoy health` raises (dead, vanishing, exploding, correlated, update ratio).
//
// Why these thresholds:
// 1. Dead: more than half of a ReLU output's channels are zero for the whole batch.
// 2. Vanishing: a gradient norm below 1e-7 x the layer's weight norm, or a relative gradient
//    (gradient norm / weight norm) a thousand times below the median layer's.
// 3. Exploding: any non-finite statistic in any record, or a gradient norm that grew more than
//    100x from the first record to the last.
// 4. Correlated: mean |r| between channels above 0.8 (the channels say the same thing).
// 5. Update ratio: ||delta w|| / ||w|| around 1e-3 is healthy (CS231n); the median over the
//    records outside [1e-5, 1e-1] is flagged. The median, because the last steps of a cosine
//    schedule legitimately have a near-zero learning rate.
// Flags use the last record unless said otherwise above.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace convoy::launcher {

// One layer's statistics over the health records, in record order (NaN: null, not finite).
struct LayerHealth {
  std::string name;
  std::string type;
  std::map<std::string, std::vector<double>> series;  // "grad_norm" -> one value per record
  std::map<std::string, std::vector<int64_t>> steps;  // the step of each of those values
  std::vector<std::string> flags;                     // short words: "dead", "vanishing" ...
  std::vector<std::string> reasons;                   // one sentence per flag, with the numbers

  bool has(const std::string& key) const { return series.count(key) > 0; }
  double last(const std::string& key) const;  // NaN when absent
};

struct HealthReport {
  std::string metrics_path;
  int64_t records = 0;
  int64_t first_step = 0, last_step = 0;
  std::vector<LayerHealth> layers;  // in the order of the network
};

// Reads every health record of `run_dir`/metrics.jsonl and computes the flags. Throws
// FileError naming the file when it is missing, unreadable, has a malformed line, or holds no
// health record (then the message says to train with --health-every N).
HealthReport read_health_report(const std::string& run_dir);

// The per-layer table, then one line per flag with its reason, then a summary line.
std::string format_health_report(const HealthReport& report);

}  // namespace convoy::launcher
