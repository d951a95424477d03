#include "datasets/maybe_gzipped_reader.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "datasets/file_bytes.hpp"
#include "framework/common/error.hpp"

namespace convoy::data {
namespace {

constexpr size_t kChunkBytes = size_t{1} << 18;
// zlib's documented bound: deflate never expands more than 1032:1.
constexpr uint64_t kLargestDeflateRatio = 1032;

}  // namespace

MaybeGzippedReader::MaybeGzippedReader(const std::string& path) : path_(path) {
  file_ = open_at_end(path);
  const std::streamsize size = file_.tellg();
  if (size < 0) throw FileError("cannot find the size of '" + path + "'");
  file_size_ = static_cast<uint64_t>(size);
  file_.seekg(0);
  uint8_t magic[2] = {0, 0};
  file_.read(reinterpret_cast<char*>(magic), 2);
  const std::streamsize magic_read = file_.gcount();
  file_.clear();
  file_.seekg(0);
  if (magic_read < 2 || magic[0] != 0x1f || magic[1] != 0x8b) return;
  stream_ = std::make_unique<z_stream_s>();
  // 15 + 16: a full window and a gzip (not raw zlib) header.
  if (inflateInit2(stream_.get(), 15 + 16) != Z_OK) {
    stream_.reset();
    throw FileError("cannot start gzip decompression of '" + path + "'");
  }
  in_member_ = true;
}

MaybeGzippedReader::~MaybeGzippedReader() {
  if (stream_) inflateEnd(stream_.get());
}

uint64_t MaybeGzippedReader::max_size() const {
  if (!gzipped()) return file_size_;
  return std::min(file_size_, UINT64_MAX / kLargestDeflateRatio) * kLargestDeflateRatio;
}

size_t MaybeGzippedReader::read(std::span<uint8_t> out) {
  return gzipped() ? inflate_into(out) : read_plain(out);
}

size_t MaybeGzippedReader::read_plain(std::span<uint8_t> out) {
  file_.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
  if (file_.bad()) throw FileError("cannot read '" + path_ + "': " + std::strerror(errno));
  return static_cast<size_t>(file_.gcount());
}

// Loads the next compressed chunk; false at the end of the file.
bool MaybeGzippedReader::refill() {
  consumed_before_chunk_ += input_.size();
  input_.resize(kChunkBytes);
  file_.read(reinterpret_cast<char*>(input_.data()), static_cast<std::streamsize>(kChunkBytes));
  if (file_.bad()) throw FileError("cannot read '" + path_ + "': " + std::strerror(errno));
  input_.resize(static_cast<size_t>(file_.gcount()));
  stream_->next_in = input_.data();
  stream_->avail_in = static_cast<uInt>(input_.size());
  return !input_.empty();
}

// After a member's trailer: skips zero padding, then starts the next member; false at the end.
bool MaybeGzippedReader::start_next_member() {
  for (;;) {
    while (stream_->avail_in > 0 && *stream_->next_in == 0) {
      ++stream_->next_in;
      --stream_->avail_in;
    }
    if (stream_->avail_in > 0) break;
    if (!refill()) return false;
  }
  if (*stream_->next_in != 0x1f) {
    const uint64_t offset = consumed_before_chunk_ + (input_.size() - stream_->avail_in);
    throw FileError("gzip file '" + path_ + "' has data after its gzip stream at byte " +
                    std::to_string(offset) + " that is not another gzip member; expected " +
                    "nothing, zero padding or a member starting with 0x1f 0x8b");
  }
  inflateReset(stream_.get());
  in_member_ = true;
  return true;
}

size_t MaybeGzippedReader::inflate_into(std::span<uint8_t> out) {
  z_stream_s& stream = *stream_;
  size_t written = 0;
  while (written < out.size() && !finished_) {
    if (!in_member_ && !start_next_member()) {
      finished_ = true;
      break;
    }
    if (stream.avail_in == 0 && !refill()) {
      throw FileError("gzip file '" + path_ + "' is truncated: the compressed stream ends after " +
                      std::to_string(stream.total_out) +
                      " bytes of output of its last member, without its trailer");
    }
    stream.next_out = out.data() + written;
    // avail_out is 32 bits wide: a larger request is served in several inflate calls.
    stream.avail_out = static_cast<uInt>(std::min<size_t>(out.size() - written, 1u << 30));
    const int status = inflate(&stream, Z_NO_FLUSH);
    written = static_cast<size_t>(stream.next_out - out.data());
    if (status == Z_STREAM_END) {
      in_member_ = false;
    } else if (status != Z_OK && status != Z_BUF_ERROR) {
      // Z_BUF_ERROR only means "no progress without more input", handled by refill above.
      throw FileError(
          "gzip file '" + path_ + "' is corrupt: " +
          (stream.msg != nullptr ? stream.msg : "zlib error " + std::to_string(status)));
    }
  }
  return written;
}

}  // namespace convoy::data
