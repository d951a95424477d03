#pragma once
// Whole-file reads for the readers that keep their set in memory (CIFAR) or decode one file per
// sample (image folder); IDX files, often gzipped, stream through MaybeGzippedReader instead.

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

namespace convoy::data {

// The file opened for binary reads, positioned at its end so tellg() is its size; FileError
// naming the path for a directory, a FIFO or device, or a file that cannot be opened.
std::ifstream open_at_end(const std::string& path);

// The file's bytes; FileError naming the path if it cannot be opened or read.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Writes bytes to path (used by tests and tools); FileError naming the path on failure.
void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes);

}  // namespace convoy::data
