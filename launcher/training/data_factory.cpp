#include "launcher/training/data_factory.hpp"

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "datasets/cifar_dataset.hpp"
#include "datasets/hdf5_dataset.hpp"
#include "datasets/idx_dataset.hpp"
#include "datasets/image_folder_dataset.hpp"
#include "datasets/subset_dataset.hpp"
#include "datasets/synthetic_dataset.hpp"
#include "launcher/usage_error.hpp"

namespace convoy::launcher {

namespace fs = std::filesystem;

static std::string default_folder(const std::string& dataset) {
  if (dataset == "fashion-mnist") return CONVOY_DEFAULT_DATA_DIR;
  if (dataset == "mnist") return "/usr/share/datasets/mnist";
  return "data/" + dataset;
}

static const std::vector<std::string>& digit_names() {
  static const std::vector<std::string> names = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  return names;
}

std::unique_ptr<data::Dataset> open_split(const RunConfig& config, const std::string& split) {
  const std::string& d = config.dataset;
  const std::string folder = config.data_dir.empty() ? default_folder(d) : config.data_dir;
  std::unique_ptr<data::Dataset> dataset;
  if (d == "fashion-mnist") {
    dataset = std::make_unique<data::IdxDataset>(data::open_fashion_mnist(folder, split));
  } else if (d == "mnist") {
    dataset =
        std::make_unique<data::IdxDataset>(data::open_mnist_layout(folder, split, digit_names()));
  } else if (d == "cifar10") {
    dataset = std::make_unique<data::CifarDataset>(data::open_cifar10(folder, split));
  } else if (d == "cifar100") {
    dataset = std::make_unique<data::CifarDataset>(data::open_cifar100(folder, split));
  } else if (d == "image-folder") {
    // The torchvision convention: root/train/<class>/..., root/val/<class>/...
    dataset = std::make_unique<data::ImageFolderDataset>(folder + "/" +
                                                         (split == "train" ? "train" : "val"));
  } else if (d == "hdf5") {
    // `convoy convert` writes one file per split: <dir>/train.h5 and <dir>/test.h5.
    const std::string path = fs::is_regular_file(folder) ? folder : folder + "/" + split + ".h5";
    dataset = std::make_unique<data::Hdf5Dataset>(path);
  } else if (d == "synthetic") {
    const ModelGeometry g = model_geometry(config);
    dataset = std::make_unique<data::SyntheticDataset>(
        Shape{g.channels, g.height, g.width}, static_cast<int>(g.classes),
        split == "train" ? 50000 : 10000, config.seed + (split == "train" ? 0 : 1));
  } else {
    throw UsageError("--dataset: unknown dataset '" + d +
                     "' (fashion-mnist, mnist, cifar10, cifar100, image-folder, hdf5, synthetic)");
  }
  const int64_t limit = split == "train" ? config.train_samples : config.test_samples;
  if (limit > 0) dataset = std::make_unique<data::SubsetDataset>(std::move(dataset), limit);
  return dataset;
}

// `image_size`: the side of the stored training images, 0 when their sizes vary.
static data::Pipeline train_pipeline(const RunConfig& c, int64_t image_size) {
  data::TransformConfig t;
  t.random_resized_crop = static_cast<int>(c.random_resized_crop);
  t.pad_to = static_cast<int>(c.pad_to);
  if (c.crop_padding > 0) {
    // The random crop keeps the size the steps before it produced: cropping the stored size
    // out of a --random-resized-crop or --pad-to image would silently undo that option.
    const int64_t size = c.pad_to > 0                ? c.pad_to
                         : c.random_resized_crop > 0 ? c.random_resized_crop
                                                     : image_size;
    if (size == 0) {
      throw ConfigError("--crop-padding " + std::to_string(c.crop_padding) +
                        " needs one image size, but the training images' sizes vary; add "
                        "--random-resized-crop or --pad-to");
    }
    t.random_crop = static_cast<int>(size);
    t.random_crop_padding = static_cast<int>(c.crop_padding);
  }
  t.horizontal_flip = c.horizontal_flip;
  t.mean.assign(c.normalize_mean.begin(), c.normalize_mean.end());
  t.standard_deviation.assign(c.normalize_std.begin(), c.normalize_std.end());
  return data::Pipeline(t);
}

static data::Pipeline eval_pipeline(const RunConfig& c) {
  data::TransformConfig t;
  t.resize = static_cast<int>(c.resize);
  t.center_crop = static_cast<int>(c.center_crop);
  t.pad_to = static_cast<int>(c.pad_to);
  t.mean.assign(c.normalize_mean.begin(), c.normalize_mean.end());
  t.standard_deviation.assign(c.normalize_std.begin(), c.normalize_std.end());
  return data::Pipeline(t);
}

// The geometry of one transformed test image: what the model really receives.
static ModelGeometry measure_geometry(const data::Dataset& dataset,
                                      const data::Pipeline& pipeline) {
  const data::FloatImage image = pipeline.apply(dataset.read(0), 0, 0, 0);
  return {image.channels, image.height, image.width, dataset.class_count()};
}

TrainingData open_evaluation_data(const RunConfig& config) {
  TrainingData data;
  data.test = open_split(config, "test");
  data.eval_transform = eval_pipeline(config);
  data.geometry = measure_geometry(*data.test, data.eval_transform);
  return data;
}

// "--center-crop 100" or "--random-resized-crop 224 --crop-padding 4": the set options among
// `options`, or "" when none is.
static std::string options_set(const std::vector<std::pair<std::string, int64_t>>& options) {
  std::string text;
  for (const auto& [name, value] : options) {
    if (value > 0) text += (text.empty() ? "" : " ") + name + " " + std::to_string(value);
  }
  return text;
}

// The model is built for one input size, and the trainer and the evaluator feed it batches of
// the training and the test pipeline: each pipeline must give that size, whatever the two
// splits store. One transformed sample of each split shows what they give.
static void check_same_input_size(const RunConfig& c, const data::Dataset& train,
                                  const data::Pipeline& train_transform,
                                  const ModelGeometry& test_geometry) {
  const data::FloatImage sample = train_transform.apply(train.read(0), c.seed, 0, 0);
  const ModelGeometry& t = test_geometry;
  if (sample.channels == t.channels && sample.height == t.height && sample.width == t.width) return;
  const bool show_channels = sample.channels != t.channels;
  auto size_text = [&](int64_t channels, int64_t height, int64_t width) {
    return (show_channels ? std::to_string(channels) + "x" : "") + std::to_string(height) + "x" +
           std::to_string(width);
  };
  auto after = [](const std::string& options) {
    return options.empty() ? " as stored" : " after " + options;
  };
  throw ConfigError(
      "test images are " + size_text(t.channels, t.height, t.width) +
      after(options_set(
          {{"--resize", c.resize}, {"--center-crop", c.center_crop}, {"--pad-to", c.pad_to}})) +
      " but training images are " + size_text(sample.channels, sample.height, sample.width) +
      after(options_set({{"--random-resized-crop", c.random_resized_crop},
                         {"--crop-padding", c.crop_padding},
                         {"--pad-to", c.pad_to}})) +
      "; both must be the model's input size (--resize/--center-crop/--pad-to decide the test "
      "size, --random-resized-crop/--crop-padding/--pad-to the training size)");
}

// A label is an index into the class names, so both splits must list the same names in the same
// order. Comparing the counts alone let an image folder whose val/ holds another class set (or
// an HDF5 file of another dataset) score every prediction against another class without a word.
static void check_same_classes(const data::Dataset& train, const data::Dataset& test) {
  const std::vector<std::string>& a = train.class_names();
  const std::vector<std::string>& b = test.class_names();
  if (a == b) return;
  size_t k = 0;
  while (k < a.size() && k < b.size() && a[k] == b[k]) ++k;
  auto name = [k](const std::vector<std::string>& names) {
    return k < names.size() ? "'" + names[k] + "'" : std::string("missing");
  };
  throw ConfigError("the train split has " + std::to_string(a.size()) +
                    " classes, the test split " + std::to_string(b.size()) + ", and class " +
                    std::to_string(k) + " is " + name(a) + " in " + train.source() + " but " +
                    name(b) + " in " + test.source() +
                    "; a label must mean the same class in both splits");
}

TrainingData open_training_data(const RunConfig& config, const Communicator& communicator) {
  if (config.dataset == "hdf5" && fs::is_regular_file(config.data_dir)) {
    // open_split takes one file for either split, which suits eval but would score training on
    // the images it trains on.
    throw ConfigError("--data-dir " + config.data_dir +
                      " is one HDF5 file, which train would both train and evaluate on; give the "
                      "folder holding its train.h5 and test.h5 (convoy convert --split train, "
                      "--split test)");
  }
  TrainingData data = open_evaluation_data(config);
  data.train = open_split(config, "train");
  const auto shape = data.train->image_shape();
  data.train_transform = train_pipeline(config, shape ? (*shape)[1] : 0);
  check_same_input_size(config, *data.train, data.train_transform, data.geometry);
  data.sampler = std::make_unique<data::DistributedSampler>(
      data.train->size(), communicator.world_size(), communicator.rank(), config.seed,
      /*shuffle=*/true, config.drop_last);
  check_same_classes(*data.train, *data.test);
  return data;
}

}  // namespace convoy::launcher
