#pragma once
// Communicator: the thin MPI layer the trainer talks to (after Flashlight's fl/distributed):
// rank, world size, ranks on this node, and the few collectives training needs. Every MPI call
// goes through a check that turns a failure into a DistributedError naming the call and rank.

#include <mpi.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace convoy {

class Communicator {
 public:
  // MPI_COMM_WORLD; initializes MPI (funneled threading) if nobody did yet.
  Communicator();
  explicit Communicator(MPI_Comm communicator);
  ~Communicator();
  Communicator(const Communicator&) = delete;
  Communicator& operator=(const Communicator&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // Rank and count among the ranks sharing this node (MPI_Comm_split_type SHARED).
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  // OpenMP threads per rank that use this node's cores without oversubscribing them.
  int recommended_threads() const;

  void barrier();
  void broadcast(std::span<float> values, int root);
  void broadcast(std::string& text, int root);
  void allreduce_sum(std::span<float> values);
  void allreduce_sum(std::span<double> values);
  void allreduce_sum(std::span<int64_t> values);
  int64_t allreduce_min(int64_t value);
  std::vector<uint64_t> allgather(uint64_t value);
  // Every rank's `text` on `root`, in rank order; an empty list on the other ranks.
  std::vector<std::string> gather(const std::string& text, int root);

  MPI_Comm handle() const { return communicator_; }

 private:
  void describe_topology();
  MPI_Comm communicator_;
  int rank_ = 0, world_size_ = 1, local_rank_ = 0, local_size_ = 1;
};

// Throws DistributedError("MPI_Allreduce failed on rank R: <MPI's message> (<hint>)") when
// `result` is not MPI_SUCCESS.
void check_mpi(int result, const char* call, const std::string& hint = "");

}  // namespace convoy
