#pragma once
// Streams a file's bytes, inflating them on the way when the file is gzipped, so a reader that
// knows how many bytes it wants (an IDX header declares them) never holds more than that.

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

struct z_stream_s;

namespace convoy::data {

// Reads `path` front to back: plain bytes, or when it starts with the gzip magic 0x1f 0x8b the
// inflated bytes of every gzip member in turn (bgzip output and `cat a.gz b.gz` are several
// members; gzip(1) and Python's gzip read them all). Zero bytes after the last member are
// padding and skipped, as gzip(1) does. FileError naming the path for a file that cannot be read
// and for a corrupt or truncated gzip stream (each member's CRC and length are checked).
class MaybeGzippedReader {
 public:
  explicit MaybeGzippedReader(const std::string& path);
  ~MaybeGzippedReader();
  MaybeGzippedReader(const MaybeGzippedReader&) = delete;
  MaybeGzippedReader& operator=(const MaybeGzippedReader&) = delete;

  // Fills `out` and returns how many bytes it wrote: fewer than out.size() only at the end.
  size_t read(std::span<uint8_t> out);

  const std::string& path() const { return path_; }
  bool gzipped() const { return stream_ != nullptr; }
  uint64_t file_size() const { return file_size_; }
  // The most bytes read() can ever return: the file's size, or for a gzip file that size times
  // deflate's largest expansion (1032:1), so a header declaring more is refused unread.
  uint64_t max_size() const;

 private:
  size_t read_plain(std::span<uint8_t> out);
  size_t inflate_into(std::span<uint8_t> out);
  bool refill();
  bool start_next_member();

  std::string path_;
  std::ifstream file_;
  uint64_t file_size_ = 0;
  std::unique_ptr<z_stream_s> stream_;  // null for a plain file
  std::vector<uint8_t> input_;          // the compressed chunk being inflated
  uint64_t consumed_before_chunk_ = 0;  // compressed bytes before input_, for messages
  bool in_member_ = false;
  bool finished_ = false;
};

}  // namespace convoy::data
