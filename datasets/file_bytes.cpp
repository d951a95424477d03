#include "datasets/file_bytes.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

std::vector<uint8_t> gunzip(const std::vector<uint8_t>& compressed, const std::string& path) {
  z_stream stream{};
  // 15 + 16: a full window and a gzip (not raw zlib) header.
  if (inflateInit2(&stream, 15 + 16) != Z_OK) {
    throw FileError("cannot start gzip decompression of '" + path + "'");
  }
  std::vector<uint8_t> output;
  // The gzip trailer's last 4 bytes hold the uncompressed size modulo 2^32: a good first guess.
  size_t guess = compressed.size() * 4;
  if (compressed.size() >= 18) {
    const uint8_t* tail = compressed.data() + compressed.size() - 4;
    guess = static_cast<size_t>(tail[0]) | static_cast<size_t>(tail[1]) << 8 |
            static_cast<size_t>(tail[2]) << 16 | static_cast<size_t>(tail[3]) << 24;
  }
  // A truncated or corrupt file has garbage there: deflate never expands beyond 1032:1, so cap
  // the guess instead of allocating gigabytes.
  guess = std::min(guess, compressed.size() * 1032);
  output.resize(std::max<size_t>(guess, 1024));
  stream.next_in = const_cast<Bytef*>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    if (stream.total_out == output.size()) output.resize(output.size() * 2);
    stream.next_out = output.data() + stream.total_out;
    stream.avail_out = static_cast<uInt>(output.size() - stream.total_out);
    status = inflate(&stream, Z_NO_FLUSH);
    if (status == Z_BUF_ERROR && stream.avail_in == 0) {
      inflateEnd(&stream);
      throw FileError("gzip file '" + path + "' is truncated: the compressed stream ends after " +
                      std::to_string(stream.total_out) + " bytes of output without its trailer");
    }
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
      const std::string reason = stream.msg != nullptr ? stream.msg : "zlib error";
      inflateEnd(&stream);
      throw FileError("gzip file '" + path + "' is corrupt: " + reason);
    }
  }
  output.resize(stream.total_out);
  inflateEnd(&stream);
  return output;
}

}  // namespace

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  // A directory opens like a file on Linux, and its end offset is no size (ext4 reports 2^63 - 1):
  // it was allocated as one and ended as "out of memory" naming no file.
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    throw FileError("cannot read '" + path + "': it is a directory, expected a file");
  }
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    throw FileError("cannot open '" + path + "': " + std::strerror(errno));
  }
  const std::streamsize size = file.tellg();
  if (size < 0) throw FileError("cannot find the size of '" + path + "'");
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (size > 0 && !file.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw FileError("cannot read " + std::to_string(size) + " bytes from '" + path + "'");
  }
  return bytes;
}

std::vector<uint8_t> read_maybe_gzipped(const std::string& path) {
  std::vector<uint8_t> bytes = read_file_bytes(path);
  if (bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) return gunzip(bytes, path);
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
