#pragma once
// Whole-file reads for the readers that keep their set in memory (IDX, CIFAR) or decode one
// file per sample (image folder).

#include <cstdint>
#include <string>
#include <vector>

namespace convoy::data {

// The file's bytes; FileError naming the path if it cannot be opened or read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// The file's bytes, gunzipped first when they start with the gzip magic 0x1f 0x8b (so
// "train-images-idx3-ubyte" and "train-images-idx3-ubyte.gz" both work); FileError naming the
// path for a corrupt or truncated gzip stream.
std::vector<uint8_t> read_maybe_gzipped(const std::string& path);

// Writes bytes to path (used by tests and tools); FileError naming the path on failure.
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace convoy::data
