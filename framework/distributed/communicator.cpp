#include "framework/distributed/communicator.hpp"

#include <algorithm>
#include <thread>

#include "framework/common/error.hpp"

namespace convoy {

void check_mpi(int result, const char* call, const std::string& hint) {
  if (result == MPI_SUCCESS) return;
  char message[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(result, message, &length);
  int rank = -1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  throw DistributedError(std::string(call) + " failed on rank " + std::to_string(rank) + ": " +
                         message + (hint.empty() ? "" : " (" + hint + ")"));
}

static MPI_Comm world() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    check_mpi(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  }
  return MPI_COMM_WORLD;
}

Communicator::Communicator() : Communicator(world()) {}

Communicator::Communicator(MPI_Comm communicator) : communicator_(communicator) {
  // Errors come back as codes that check_mpi turns into exceptions, instead of MPI aborting.
  MPI_Comm_set_errhandler(communicator_, MPI_ERRORS_RETURN);
  check_mpi(MPI_Comm_rank(communicator_, &rank_), "MPI_Comm_rank");
  check_mpi(MPI_Comm_size(communicator_, &world_size_), "MPI_Comm_size");
  describe_topology();
}

Communicator::~Communicator() = default;

void Communicator::describe_topology() {
  MPI_Comm node;
  check_mpi(MPI_Comm_split_type(communicator_, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type", "grouping the ranks of each node");
  MPI_Comm_rank(node, &local_rank_);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
}

int Communicator::recommended_threads() const {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / local_size_);
}

void Communicator::barrier() { check_mpi(MPI_Barrier(communicator_), "MPI_Barrier"); }

void Communicator::broadcast(std::span<float> values, int root) {
  check_mpi(
      MPI_Bcast(values.data(), static_cast<int>(values.size()), MPI_FLOAT, root, communicator_),
      "MPI_Bcast");
}

void Communicator::broadcast(std::string& text, int root) {
  int64_t length = static_cast<int64_t>(text.size());
  check_mpi(MPI_Bcast(&length, 1, MPI_INT64_T, root, communicator_), "MPI_Bcast");
  text.resize(static_cast<size_t>(length));
  check_mpi(MPI_Bcast(text.data(), static_cast<int>(length), MPI_CHAR, root, communicator_),
            "MPI_Bcast");
}

void Communicator::allreduce_sum(std::span<float> values) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_FLOAT,
                          MPI_SUM, communicator_),
            "MPI_Allreduce");
}

void Communicator::allreduce_sum(std::span<double> values) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE,
                          MPI_SUM, communicator_),
            "MPI_Allreduce");
}

void Communicator::allreduce_sum(std::span<int64_t> values) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_INT64_T,
                          MPI_SUM, communicator_),
            "MPI_Allreduce");
}

int64_t Communicator::allreduce_min(int64_t value) {
  check_mpi(MPI_Allreduce(MPI_IN_PLACE, &value, 1, MPI_INT64_T, MPI_MIN, communicator_),
            "MPI_Allreduce");
  return value;
}

std::vector<uint64_t> Communicator::allgather(uint64_t value) {
  std::vector<uint64_t> values(static_cast<size_t>(world_size_));
  check_mpi(MPI_Allgather(&value, 1, MPI_UINT64_T, values.data(), 1, MPI_UINT64_T, communicator_),
            "MPI_Allgather");
  return values;
}

std::vector<std::string> Communicator::gather(const std::string& text, int root) {
  const int length = static_cast<int>(text.size());
  std::vector<int> lengths(rank_ == root ? static_cast<size_t>(world_size_) : 0);
  check_mpi(MPI_Gather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, root, communicator_),
            "MPI_Gather");
  std::vector<int> offsets(lengths.size(), 0);
  for (size_t r = 1; r < lengths.size(); ++r) offsets[r] = offsets[r - 1] + lengths[r - 1];
  std::string joined(rank_ == root ? static_cast<size_t>(offsets.back() + lengths.back()) : 0, '\0');
  check_mpi(MPI_Gatherv(text.data(), length, MPI_CHAR, joined.data(), lengths.data(),
                        offsets.data(), MPI_CHAR, root, communicator_),
            "MPI_Gatherv");
  std::vector<std::string> texts;
  for (size_t r = 0; r < lengths.size(); ++r) texts.push_back(joined.substr(offsets[r], lengths[r]));
  return texts;
}

}  // namespace convoy
