#include "launcher/usage_error_channel.hpp"

#include <xxhash.h>

#include <thread>

namespace convoy::launcher {

UsageErrorChannel::UsageErrorChannel() {
  MPI_Comm_dup(MPI_COMM_WORLD, &communicator_);
  int size = 1;
  MPI_Comm_size(communicator_, &size);
  hashes_.assign(static_cast<size_t>(size), 0);
}

UsageErrorChannel::~UsageErrorChannel() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized && communicator_ != MPI_COMM_NULL) MPI_Comm_free(&communicator_);
}

UsageErrorChannel::Agreement UsageErrorChannel::compare(const std::string& message,
                                                         std::chrono::milliseconds wait) {
  message_hash_ = XXH3_64bits(message.data(), message.size());
  MPI_Request request = MPI_REQUEST_NULL;
  if (MPI_Iallgather(&message_hash_, 1, MPI_UINT64_T, hashes_.data(), 1, MPI_UINT64_T,
                     communicator_, &request) != MPI_SUCCESS) {
    return {};
  }
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (int done = 0;;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (done) return {true, hashes_[0] == message_hash_};
    if (std::chrono::steady_clock::now() >= deadline) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace convoy::launcher
