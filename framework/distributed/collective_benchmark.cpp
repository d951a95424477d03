#include "framework/distributed/collective_benchmark.hpp"

#include <algorithm>
#include <vector>

#include "framework/common/error.hpp"
#include "framework/common/median.hpp"

namespace convoy {

namespace {

// Rank 0's value, on every rank.
double from_rank_zero(Communicator& communicator, double value) {
  double shared[1] = {communicator.rank() == 0 ? value : 0.0};
  communicator.allreduce_sum(std::span<double>(shared));
  return shared[0];
}

}  // namespace

double measure_link_bandwidth(Communicator& communicator, int64_t bytes, int repetitions) {
  if (communicator.world_size() < 2) {
    throw ConfigError("the link bandwidth needs at least two ranks (mpirun -np 2)");
  }
  if (bytes < 1 || bytes > (int64_t{1} << 30) || repetitions < 1) {
    throw ConfigError("ping-pong of " + std::to_string(bytes) + " bytes x " +
                      std::to_string(repetitions) + ": expected 1 byte..1 GiB and >= 1 repetition");
  }
  std::vector<char> buffer(static_cast<size_t>(bytes), 1);
  const int count = static_cast<int>(bytes);
  const int rank = communicator.rank();
  std::vector<double> one_way;
  // One untimed round first: the first touch of shared-memory segments is not the link.
  for (int i = 0; i <= repetitions; ++i) {
    communicator.barrier();
    const double start = MPI_Wtime();
    if (rank == 0) {
      check_mpi(MPI_Send(buffer.data(), count, MPI_CHAR, 1, 0, communicator.handle()), "MPI_Send");
      check_mpi(
          MPI_Recv(buffer.data(), count, MPI_CHAR, 1, 0, communicator.handle(), MPI_STATUS_IGNORE),
          "MPI_Recv");
    } else if (rank == 1) {
      check_mpi(
          MPI_Recv(buffer.data(), count, MPI_CHAR, 0, 0, communicator.handle(), MPI_STATUS_IGNORE),
          "MPI_Recv");
      check_mpi(MPI_Send(buffer.data(), count, MPI_CHAR, 0, 0, communicator.handle()), "MPI_Send");
    }
    if (i > 0) one_way.push_back((MPI_Wtime() - start) / 2);
  }
  const double bandwidth = static_cast<double>(bytes) / median(one_way);
  return from_rank_zero(communicator, bandwidth);
}

double measure_allreduce_seconds(Communicator& communicator, int64_t floats, int repetitions) {
  if (floats < 1 || repetitions < 1) {
    throw ConfigError("allreduce of " + std::to_string(floats) + " floats x " +
                      std::to_string(repetitions) + ": expected at least one of each");
  }
  std::vector<float> values(static_cast<size_t>(floats), 1.0f);
  std::vector<double> seconds;
  for (int i = 0; i <= repetitions; ++i) {
    communicator.barrier();
    const double start = MPI_Wtime();
    communicator.allreduce_sum(std::span<float>(values));
    if (i > 0) seconds.push_back(MPI_Wtime() - start);
    // Keep the values finite and constant so every repetition moves the same bits.
    std::fill(values.begin(), values.end(), 1.0f);
  }
  return from_rank_zero(communicator, median(seconds));
}

}  // namespace convoy
