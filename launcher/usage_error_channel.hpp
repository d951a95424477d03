#pragma once
// UsageErrorChannel: lets the ranks of an MPI job that all refuse the same command line say so
// once, from rank 0, as torchrun and horovodrun do, instead of once per rank.

#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace convoy::launcher {

// Why it works this way:
// 1. Every rank parses the same command line, so a bad option is usually refused by all of them;
//    each printed it, and MPI_Abort added Open MPI's banner. A rank cannot know, though, that its
//    peers refused it too: a recipe file one node lacks, or mpirun's multiple-program form, gives
//    one rank an error of its own, and that one must still be printed.
// 2. So the ranks that refuse compare their messages, and only a rank whose message differs
//    from rank 0's prints it beside rank 0's. When every rank refused, none is busy elsewhere:
//    they all finalize MPI and exit 2 without MPI_Abort.
// 3. The comparison runs on a duplicate of MPI_COMM_WORLD: ranks that did not refuse are in the
//    command's own collectives on MPI_COMM_WORLD, which a collective of ours there would be
//    matched against. On a communicator of its own a non-blocking allgather completes only when
//    every rank joins it, so waiting for it against a deadline can never hang; past the deadline
//    a rank reports as before (its own line, then MPI_Abort).
class UsageErrorChannel {
 public:
  // Collective: every rank constructs it right after MPI_Init, before any command runs.
  UsageErrorChannel();
  ~UsageErrorChannel();
  UsageErrorChannel(const UsageErrorChannel&) = delete;
  UsageErrorChannel& operator=(const UsageErrorChannel&) = delete;

  struct Agreement {
    bool every_rank_refused = false;  // every rank reported a usage error within the wait
    bool same_as_rank_zero = false;   // ... and this rank's message equals rank 0's
  };
  // Called once, by a rank that refused its command line with `message`.
  Agreement compare(const std::string& message, std::chrono::milliseconds wait);

 private:
  MPI_Comm communicator_ = MPI_COMM_NULL;
  // Members, not locals: a request that missed its deadline stays pending until MPI_Abort, and a
  // late rank's contribution may still be written into them.
  uint64_t message_hash_ = 0;
  std::vector<uint64_t> hashes_;
};

}  // namespace convoy::launcher
