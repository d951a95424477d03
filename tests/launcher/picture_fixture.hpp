#pragma once
// The known model and images behind the tests of `convoy filters`, `units`, `receptive-field`
// and `eval --confusion-png`: a ResNet-20 (CIFAR variant, 3 input channels, 2 classes) whose
// conv1 filter 0 sums the red channel over its 3x3 window, on an image folder of six dark
// 12x12 RGB images, two of which carry a red 3x3 patch.

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "datasets/file_bytes.hpp"
#include "datasets/image_decoder.hpp"
#include "framework/models/model_builder.hpp"
#include "support/command_runner.hpp"
#include "support/layer_testing.hpp"
#include "support/model_checkpoint.hpp"

namespace convoy::testing {

struct PictureFixture {
  static constexpr int kSize = 12;
  std::string directory, checkpoint;
  std::vector<float> conv1_weight;  // (16, 3, 3, 3)
  std::vector<data::Image> images;  // samples 0..5: val/a/0..2.png, val/b/0..2.png
  // Sample 4 has the bright patch centred at (7, 3), sample 1 the dim one centred at (3, 8).
  static constexpr int kBrightSample = 4, kDimSample = 1;
};

inline data::Image patched_image(uint64_t seed, int centre_y, int centre_x, int base) {
  const int size = PictureFixture::kSize;
  data::Image image{{}, 3, size, size, 0};
  const auto noise = random_values(3 * size * size, seed, 0.0f, 40.0f);
  for (float value : noise) image.pixels.push_back(static_cast<uint8_t>(value));
  if (base > 0) {
    for (int dy = -1; dy <= 1; ++dy)
      for (int dx = -1; dx <= 1; ++dx)
        image.pixels[static_cast<size_t>((centre_y + dy) * size + centre_x + dx)] =
            static_cast<uint8_t>(base + 5 * (3 * (dy + 1) + dx + 1));
  }
  return image;
}

// With `with_model_ema`, the checkpoint also holds a model EMA: the same weights but conv1's
// filters in reverse order, so the red-summing filter is its channel 15.
inline PictureFixture make_picture_fixture(const std::string& name, bool with_model_ema = false) {
  PictureFixture fixture;
  fixture.directory = fresh_directory(name);
  const std::filesystem::path root = fixture.directory + "/data/val";
  for (int sample = 0; sample < 6; ++sample) {
    const int base = sample == PictureFixture::kBrightSample ? 200
                     : sample == PictureFixture::kDimSample  ? 120
                                                             : 0;
    const int centre_y = sample == PictureFixture::kBrightSample ? 7 : 3;
    const int centre_x = sample == PictureFixture::kBrightSample ? 3 : 8;
    fixture.images.push_back(patched_image(100 + sample, centre_y, centre_x, base));
    const auto folder = root / (sample < 3 ? "a" : "b");
    std::filesystem::create_directories(folder);
    data::write_file_bytes((folder / (std::to_string(sample % 3) + ".png")).string(),
                           data::encode_png(fixture.images.back()));
  }
  ModelConfig config;
  config.architecture = "resnet20";
  config.variant = "cifar";
  config.in_channels = 3;
  config.num_classes = 2;
  auto net = build_model(config);
  for (const auto& [parameter_name, parameter] : net->parameters()) {
    if (parameter_name != "conv1.weight") continue;
    fixture.conv1_weight = random_values(parameter->value.element_count(), 7);
    for (int i = 0; i < 27; ++i) fixture.conv1_weight[static_cast<size_t>(i)] = i < 9 ? 1.0f : 0.0f;
    parameter->value.copy_from_plain(fixture.conv1_weight);
  }
  fixture.checkpoint = fixture.directory + "/model.h5";
  const std::string configuration =
      "architecture = resnet20\nvariant = cifar\ndataset = image-folder\ndata-dir = " +
      fixture.directory + "/data\n";
  if (!with_model_ema) {
    write_model_checkpoint(*net, configuration, fixture.checkpoint);
    return fixture;
  }
  auto average = build_model(config);
  auto values = net->parameter_values();
  std::copy(values.begin(), values.end(), average->parameter_values().begin());
  for (const auto& [parameter_name, parameter] : average->parameters()) {
    if (parameter_name != "conv1.weight") continue;
    std::vector<float> reversed;
    for (int filter = 15; filter >= 0; --filter) {
      const auto first = fixture.conv1_weight.begin() + filter * 27;
      reversed.insert(reversed.end(), first, first + 27);
    }
    parameter->value.copy_from_plain(reversed);
  }
  write_model_checkpoint(*net, configuration, fixture.checkpoint, average.get());
  return fixture;
}

}  // namespace convoy::testing
