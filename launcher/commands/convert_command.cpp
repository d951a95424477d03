// `convoy convert`: writes a dataset split as an HDF5 image dataset (uint8 N x C x H x W plus
// labels, chunked so each rank reads only its shard): the format a cluster job should read.

#include <cstdio>
#include <string>

#include "datasets/hdf5_convert.hpp"
#include "launcher/command.hpp"
#include "launcher/option_value.hpp"
#include "launcher/run_config.hpp"
#include "launcher/training/data_factory.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

int run_convert(const std::vector<std::string>& arguments) {
  RunConfig config;
  std::string output, split = "train";
  int64_t chunk = 16;
  namespace po = boost::program_options;
  po::options_description options("Conversion");
  options.add_options()("output", po::value(&output),
                        "HDF5 file to write (e.g. data/fashion/train.h5)")(
      "split", defaulted(&split), "train or test")(
      "chunk-images", defaulted(&chunk), "images per HDF5 chunk");
  add_run_options(options, config);
  if (!parse_command_line(arguments, options,
                          "usage: convoy convert --dataset NAME [--data-dir DIR] --split "
                          "train|test --output FILE.h5",
                          &config)) {
    return kExitSuccess;
  }
  if (output.empty()) throw UsageError("--output is required (see --help)");
  if (split != "train" && split != "test") throw UsageError("--split must be train or test");
  // A bad option value is a usage error (exit 2) like every other command's, found before the
  // dataset is read.
  if (chunk < 1) {
    throw UsageError("--chunk-images must be at least 1, got " + std::to_string(chunk));
  }
  auto dataset = open_split(config, split);
  data::convert_to_hdf5(*dataset, output, chunk);
  std::printf("wrote %lld images of %s to %s\n", static_cast<long long>(dataset->size()),
              dataset->source().c_str(), output.c_str());
  return kExitSuccess;
}

}  // namespace convoy::launcher
