#include "datasets/file_bytes.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "framework/common/error.hpp"

namespace convoy::data {

std::ifstream open_at_end(const std::string& path) {
  // A directory opens like a file on Linux, and its end offset is no size (ext4 reports 2^63 - 1):
  // it was allocated as one and ended as "out of memory" naming no file.
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (std::filesystem::is_directory(status)) {
    throw FileError("cannot read '" + path + "': it is a directory, expected a file");
  }
  // Opening a FIFO blocks until something writes to it: a dataset path naming one hung the run.
  if (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status)) {
    throw FileError("cannot read '" + path +
                    "': it is not a regular file (a FIFO, socket or device), expected a file");
  }
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw FileError("cannot open '" + path + "': " + std::strerror(errno));
  return file;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream file = open_at_end(path);
  const std::streamsize size = file.tellg();
  if (size < 0) throw FileError("cannot find the size of '" + path + "'");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (size > 0 && !file.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw FileError("cannot read " + std::to_string(size) + " bytes from '" + path + "'");
  }
  return bytes;
}

void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  if (!file) throw FileError("cannot create '" + path + "': " + std::strerror(errno));
  file.write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  if (!file.flush())
    throw FileError("cannot write " + std::to_string(bytes.size()) + " bytes to '" + path + "'");
}

}  // namespace convoy::data
