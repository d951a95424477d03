#include "launcher/health/health_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "framework/common/median.hpp"

#include "framework/common/error.hpp"

namespace convoy::launcher {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kDeadFraction = 0.5;
constexpr double kVanishingAbsolute = 1e-7;  // x weight norm
constexpr double kVanishingRelative = 1e-3;  // x the median layer's grad / weight
constexpr double kExplodingGrowth = 100;
constexpr double kCorrelated = 0.8;
constexpr double kUpdateRatioLow = 1e-5, kUpdateRatioHigh = 1e-1;

// The statistics a record's layer entry may carry (all optional: a ReLU has no weights).
const char* const kStatistics[] = {"weight_norm",         "grad_norm",      "update_ratio",
                                   "activation_mean",     "activation_std", "dead_fraction",
                                   "mean_abs_correlation"};

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof text, pattern, value);
  return text;
}

// The median of the finite values; NaN when there are none.
double finite_median(std::vector<double> values) {
  std::erase_if(values, [](double v) { return !std::isfinite(v); });
  return values.empty() ? kNaN : median(std::move(values));
}

void add_flag(LayerHealth& layer, const std::string& flag, const std::string& reason) {
  if (std::find(layer.flags.begin(), layer.flags.end(), flag) == layer.flags.end())
    layer.flags.push_back(flag);
  layer.reasons.push_back(flag + ": " + reason);
}

void flag_layer(LayerHealth& layer, double median_relative_gradient) {
  for (const auto& [key, values] : layer.series) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isfinite(values[i])) continue;
      add_flag(layer, "exploding",
               key + " is not finite at step " + std::to_string(layer.steps[key][i]));
      break;
    }
  }
  if (layer.has("grad_norm")) {
    const auto& gradients = layer.series["grad_norm"];
    const double first = gradients.front(), last = gradients.back();
    if (std::isfinite(first) && first > 0 && std::isfinite(last) &&
        last > kExplodingGrowth * first) {
      add_flag(layer, "exploding",
               "gradient norm grew " + format("%.3g", last / first) + "x (" +
                   format("%.3g", first) + " at step " +
                   std::to_string(layer.steps["grad_norm"].front()) + ", " + format("%.3g", last) +
                   " at step " + std::to_string(layer.steps["grad_norm"].back()) + ")");
    }
    const double weight = layer.last("weight_norm");
    if (std::isfinite(last) && std::isfinite(weight) && weight > 0) {
      if (last < kVanishingAbsolute * weight) {
        add_flag(layer, "vanishing",
                 "gradient norm " + format("%.3g", last) + " < 1e-7 x weight norm " +
                     format("%.3g", weight));
      } else if (last / weight < kVanishingRelative * median_relative_gradient) {
        add_flag(layer, "vanishing",
                 "gradient norm / weight norm " + format("%.3g", last / weight) +
                     " is over 1000x below the median layer's " +
                     format("%.3g", median_relative_gradient));
      }
    }
  }
  const double dead = layer.last("dead_fraction");
  if (dead > kDeadFraction) {
    add_flag(layer, "dead",
             format("%.0f", 100 * dead) + " % of the channels are zero for the whole batch");
  }
  const double correlation = layer.last("mean_abs_correlation");
  if (correlation > kCorrelated) {
    add_flag(layer, "correlated",
             "mean |r| between channels " + format("%.3f", correlation) + " > 0.8");
  }
  if (layer.has("update_ratio")) {
    const double ratio = finite_median(layer.series["update_ratio"]);
    if (std::isfinite(ratio) && (ratio < kUpdateRatioLow || ratio > kUpdateRatioHigh)) {
      add_flag(layer, "update-ratio",
               "median update / weight ratio " + format("%.3g", ratio) +
                   " is outside [1e-5, 1e-1] (about 1e-3 is healthy; " +
                   (ratio > kUpdateRatioHigh ? "lower" : "raise") + " the learning rate?)");
    }
  }
}

}  // namespace

double LayerHealth::last(const std::string& key) const {
  auto it = series.find(key);
  return it == series.end() || it->second.empty() ? kNaN : it->second.back();
}

HealthReport read_health_report(const std::string& run_dir) {
  HealthReport report;
  report.metrics_path = run_dir + "/metrics.jsonl";
  std::ifstream file(report.metrics_path);
  if (!file) {
    throw FileError("cannot read " + report.metrics_path + " (is " + run_dir +
                    " the run directory of a convoy train run?)");
  }
  // Each run writes a "start" record with the step it starts from; a resumed run redoes the
  // steps its predecessor took past that, so their earlier health records are dropped.
  struct HealthRecord {
    std::string where;
    int64_t step;
    nlohmann::json layers;
  };
  std::vector<HealthRecord> records;
  int64_t line_number = 0;
  for (std::string line; std::getline(file, line);) {
    ++line_number;
    if (line.empty()) continue;
    const std::string where = report.metrics_path + ":" + std::to_string(line_number);
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& error) {
      // convoy writes each record with its newline, so a last line without one was cut short
      // by a kill: skipped like the plot scripts skip it, rather than refusing the whole run.
      if (file.eof()) {
        std::fprintf(stderr,
                     "convoy health: warning: %s: skipping the last line, cut short (the "
                     "run was probably killed while writing it)\n",
                     where.c_str());
        break;
      }
      throw FileError(where + ": not a JSON object (" + error.what() + ")");
    }
    if (!record.is_object()) continue;
    const std::string kind = record.value("kind", "");
    if (kind == "start") {
      if (!record.contains("step") || !record["step"].is_number_integer())
        throw FileError(where + ": a start record needs an integer \"step\"");
      const int64_t start = record["step"].get<int64_t>();
      while (!records.empty() && records.back().step > start) records.pop_back();
      continue;
    }
    if (kind != "health") continue;
    if (!record.contains("step") || !record["step"].is_number_integer() ||
        !record.contains("layers") || !record["layers"].is_array()) {
      throw FileError(where + ": a health record needs an integer \"step\" and a \"layers\" array");
    }
    records.push_back({where, record["step"].get<int64_t>(), std::move(record["layers"])});
  }
  std::map<std::string, size_t> index;  // layer name -> position in report.layers
  for (const auto& [where, step, layers] : records) {
    if (report.records == 0) report.first_step = step;
    report.last_step = step;
    ++report.records;
    for (const auto& entry : layers) {
      if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string())
        throw FileError(where + ": every layer of a health record needs a \"name\"");
      const std::string name = entry["name"].get<std::string>();
      auto [it, inserted] = index.try_emplace(name, report.layers.size());
      if (inserted) {
        LayerHealth added;
        added.name = name;
        added.type = entry.value("type", "");
        report.layers.push_back(std::move(added));
      }
      LayerHealth& layer = report.layers[it->second];
      for (const char* key : kStatistics) {
        if (!entry.contains(key)) continue;
        const auto& value = entry[key];
        if (!value.is_number() && !value.is_null())
          throw FileError(where + ": \"" + key + "\" of layer " + name + " is not a number");
        // nlohmann::json writes NaN and infinity as null.
        layer.series[key].push_back(value.is_null() ? kNaN : value.get<double>());
        layer.steps[key].push_back(step);
      }
    }
  }
  if (report.records == 0) {
    throw FileError(report.metrics_path +
                    " has no health records (kind \"health\"): train with --health-every N");
  }
  std::vector<double> relative_gradients;
  for (const auto& layer : report.layers) {
    const double weight = layer.last("weight_norm");
    if (weight > 0) relative_gradients.push_back(layer.last("grad_norm") / weight);
  }
  const double median_relative_gradient = finite_median(relative_gradients);
  for (auto& layer : report.layers) flag_layer(layer, median_relative_gradient);
  return report;
}

std::string format_health_report(const HealthReport& report) {
  size_t name_width = 5;
  for (const auto& layer : report.layers) name_width = std::max(name_width, layer.name.size());
  auto cell = [](const LayerHealth& layer, const std::string& key) {
    if (!layer.has(key)) return std::string("-");
    return format("%.3g", layer.last(key));  // "nan" for a non-finite value
  };
  auto trend = [](const LayerHealth& layer, const std::string& key) {
    if (!layer.has(key)) return std::string("-");
    const auto& values = layer.series.at(key);
    return "x" + format("%.3g", values.back() / values.front());
  };
  std::string out = "training health from " + report.metrics_path + ": " +
                    std::to_string(report.records) + " record(s), steps " +
                    std::to_string(report.first_step) + ".." + std::to_string(report.last_step) +
                    "\nvalues of the last record; trend = last / first; update = ||dw|| / ||w||; "
                    "dead = fraction of ReLU channels zero on the whole batch; |r| = mean |corr| "
                    "between channels\n";
  char line[512];
  const int width = static_cast<int>(name_width);
  std::snprintf(line, sizeof line, "%-*s %-17s %9s %9s %8s %9s %9s %9s %8s %6s %6s  %s\n", width,
                "layer", "type", "weight", "grad", "trend", "update", "act mean", "act std",
                "trend", "dead", "|r|", "flags");
  out += line;
  int64_t flagged = 0;
  std::map<std::string, int64_t> counts;
  for (const auto& layer : report.layers) {
    std::string flags;
    for (const auto& flag : layer.flags) {
      flags += (flags.empty() ? "" : ",") + flag;
      ++counts[flag];
    }
    flagged += layer.flags.empty() ? 0 : 1;
    std::snprintf(line, sizeof line, "%-*s %-17s %9s %9s %8s %9s %9s %9s %8s %6s %6s  %s\n", width,
                  layer.name.c_str(), layer.type.substr(0, 17).c_str(),
                  cell(layer, "weight_norm").c_str(), cell(layer, "grad_norm").c_str(),
                  trend(layer, "grad_norm").c_str(), cell(layer, "update_ratio").c_str(),
                  cell(layer, "activation_mean").c_str(), cell(layer, "activation_std").c_str(),
                  trend(layer, "activation_std").c_str(), cell(layer, "dead_fraction").c_str(),
                  cell(layer, "mean_abs_correlation").c_str(), flags.c_str());
    out += line;
  }
  if (flagged == 0) return out + "no flags: every layer looks healthy\n";
  out += "\n";
  for (const auto& layer : report.layers) {
    for (const auto& reason : layer.reasons) out += layer.name + ": " + reason + "\n";
  }
  std::string summary;
  for (const auto& [flag, count] : counts)
    summary += (summary.empty() ? "" : ", ") + flag + " " + std::to_string(count);
  return out + std::to_string(flagged) + " of " + std::to_string(report.layers.size()) +
         " layers flagged (" + summary + ")\n";
}

}  // namespace convoy::launcher
