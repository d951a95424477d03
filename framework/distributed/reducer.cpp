#include "framework/distributed/reducer.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "framework/common/error.hpp"

namespace convoy {

// Why the Reducer works this way:
// 1. Buckets follow the reverse of the parameter list, which is the order backward produces
//    gradients, so the first bucket fills while most of backward is still ahead.
// 2. Collectives must be issued in the same order on every rank; a bucket is launched only
//    after all earlier buckets were, so an out-of-order fill (a residual branch) cannot reorder
//    the allreduces between ranks.
// 3. Open MPI progresses non-blocking collectives only inside MPI calls, so every
//    gradients_ready() also tests the requests in flight (cheap) to keep them moving.
// 4. The Net keeps gradients in one contiguous arena, so a bucket is usually one span and is
//    reduced in place with no copy; a fusion buffer covers the general case.
// 5. bf16 compression halves the bytes; the custom op widens both operands to fp32, adds and
//    rounds once, so accumulation is fp32 and only the transport is 16-bit.

namespace {

uint16_t to_bf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  const bool not_a_number = (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0;
  if (not_a_number) return static_cast<uint16_t>((bits >> 16) | 0x40);  // stays a quiet NaN
  bits += 0x7FFFu + ((bits >> 16) & 1u);                                // round to nearest even
  return static_cast<uint16_t>(bits >> 16);
}

float from_bf16(uint16_t value) {
  const uint32_t bits = static_cast<uint32_t>(value) << 16;
  float result;
  std::memcpy(&result, &bits, sizeof result);
  return result;
}

void bf16_sum(void* in, void* inout, int* length, MPI_Datatype*) {
  auto* a = static_cast<const uint16_t*>(in);
  auto* b = static_cast<uint16_t*>(inout);
  for (int i = 0; i < *length; ++i) b[i] = to_bf16(from_bf16(a[i]) + from_bf16(b[i]));
}

}  // namespace

Reducer::Reducer(Communicator& communicator, std::vector<NamedParameter> parameters,
                 ReducerOptions options)
    : communicator_(communicator), parameters_(std::move(parameters)), options_(options) {
  if (options_.bucket_bytes < 1) throw ConfigError("gradient bucket size must be positive");
  bucket_of_.assign(parameters_.size(), -1);
  ready_.assign(parameters_.size(), 0);
  GradientBucket current;
  auto close = [&] {
    if (current.parameters.empty()) return;
    // Contiguous if, walking the list backwards, each gradient ends where the previous begins.
    bool contiguous = true;
    for (size_t k = 1; k < current.parameters.size(); ++k) {
      const Parameter* later = parameters_[current.parameters[k - 1]].parameter;
      const Parameter* earlier = parameters_[current.parameters[k]].parameter;
      contiguous = contiguous && earlier->grad.plain_data() + earlier->grad.element_count() ==
                                     later->grad.plain_data();
    }
    if (contiguous) {
      current.contiguous_begin =
          parameters_[current.parameters.back()].parameter->grad.plain_data();
    } else {
      current.fusion.resize(static_cast<size_t>(current.elements));
    }
    if (options_.compress_bf16) current.compressed.resize(static_cast<size_t>(current.elements));
    for (int index : current.parameters) bucket_of_[index] = static_cast<int>(buckets_.size());
    buckets_.push_back(std::move(current));
    current = GradientBucket{};
  };
  for (int index = static_cast<int>(parameters_.size()) - 1; index >= 0; --index) {
    const int64_t count = parameters_[index].parameter->grad.element_count();
    if (!current.parameters.empty() &&
        (current.elements + count) * static_cast<int64_t>(sizeof(float)) > options_.bucket_bytes) {
      close();
    }
    current.parameters.push_back(index);
    current.elements += count;
  }
  close();
  if (options_.compress_bf16) MPI_Op_create(&bf16_sum, /*commute=*/1, &bf16_sum_);
}

Reducer::~Reducer() {
  for (auto& bucket : buckets_) {
    if (bucket.request != MPI_REQUEST_NULL) MPI_Request_free(&bucket.request);
  }
  if (bf16_sum_ != MPI_OP_NULL) MPI_Op_free(&bf16_sum_);
}

void Reducer::start_step() {
  std::fill(ready_.begin(), ready_.end(), 0);
  for (auto& bucket : buckets_) {
    bucket.pending = static_cast<int>(bucket.parameters.size());
    bucket.launched = false;
  }
  next_to_launch_ = 0;
  timing_ = {};
  first_launch_ = {};
}

void Reducer::gradients_ready(std::span<const int> parameter_indices) {
  for (int index : parameter_indices) {
    if (index < 0 || index >= static_cast<int>(parameters_.size()) || ready_[index]) {
      throw DistributedError("gradient " + std::to_string(index) +
                             " reported ready twice or unknown in one step");
    }
    ready_[index] = 1;
    --buckets_[bucket_of_[index]].pending;
  }
  launch_ready_buckets();
  poll();
}

void Reducer::launch_ready_buckets() {
  while (next_to_launch_ < buckets_.size() && buckets_[next_to_launch_].pending == 0) {
    launch(buckets_[next_to_launch_++]);
  }
}

void Reducer::launch(GradientBucket& bucket) {
  if (bucket.contiguous_begin == nullptr) {
    float* out = bucket.fusion.data();
    for (int index : bucket.parameters) {
      const Tensor& grad = parameters_[index].parameter->grad;
      std::memcpy(out, grad.plain_data(),
                  static_cast<size_t>(grad.element_count()) * sizeof(float));
      out += grad.element_count();
    }
  }
  float* data = bucket.contiguous_begin ? bucket.contiguous_begin : bucket.fusion.data();
  bucket.launched_at = Timeline::Clock::now();
  if (first_launch_ == Timeline::Clock::time_point{}) first_launch_ = bucket.launched_at;
  bucket.launched = true;
  const int count = static_cast<int>(bucket.elements);
  if (options_.compress_bf16) {
    for (int64_t i = 0; i < bucket.elements; ++i) bucket.compressed[i] = to_bf16(data[i]);
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, bucket.compressed.data(), count, MPI_UINT16_T, bf16_sum_,
                             communicator_.handle(), &bucket.request),
              "MPI_Iallreduce", "gradient bucket (bf16)");
  } else {
    check_mpi(MPI_Iallreduce(MPI_IN_PLACE, data, count, MPI_FLOAT, MPI_SUM, communicator_.handle(),
                             &bucket.request),
              "MPI_Iallreduce", "gradient bucket");
  }
}

void Reducer::poll() {
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i].request == MPI_REQUEST_NULL) continue;
    int done = 0;
    check_mpi(MPI_Test(&buckets_[i].request, &done, MPI_STATUS_IGNORE), "MPI_Test");
    if (done) record_completion(i, Timeline::Clock::now());
  }
}

void Reducer::record_completion(size_t bucket_index, Timeline::Clock::time_point now) {
  GradientBucket& bucket = buckets_[bucket_index];
  bucket.completed_at = now;
  if (!timeline_) return;
  char name[96];
  std::snprintf(name, sizeof name, "allreduce bucket %zu (%zu gradients, %.2f MB)", bucket_index,
                bucket.parameters.size(), bucket.elements * sizeof(float) / (1024.0 * 1024.0));
  timeline_->add(name, "allreduce", bucket.launched_at, bucket.completed_at);
}

void Reducer::complete(GradientBucket& bucket) {
  float* data = bucket.contiguous_begin ? bucket.contiguous_begin : bucket.fusion.data();
  if (options_.compress_bf16) {
    for (int64_t i = 0; i < bucket.elements; ++i) data[i] = from_bf16(bucket.compressed[i]);
  }
  if (bucket.contiguous_begin == nullptr) {
    const float* in = bucket.fusion.data();
    for (int index : bucket.parameters) {
      Tensor& grad = parameters_[index].parameter->grad;
      std::memcpy(grad.plain_data(), in, static_cast<size_t>(grad.element_count()) * sizeof(float));
      in += grad.element_count();
    }
  }
}

void Reducer::finalize() {
  for (size_t i = 0; i < ready_.size(); ++i) {
    if (!ready_[i]) {
      throw DistributedError("finalize: no gradient was reported for " + parameters_[i].name +
                             " (unused parameter?)");
    }
  }
  launch_ready_buckets();
  const auto wait_start = Timeline::Clock::now();
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i].request != MPI_REQUEST_NULL) {
      check_mpi(MPI_Wait(&buckets_[i].request, MPI_STATUS_IGNORE), "MPI_Wait", "gradient bucket");
      record_completion(i, Timeline::Clock::now());
    }
  }
  const auto end = Timeline::Clock::now();
  if (timeline_) timeline_->add("allreduce wait", "compute", wait_start, end);
  for (auto& bucket : buckets_) complete(bucket);
  using Seconds = std::chrono::duration<double>;
  timing_.exposed_seconds = Seconds(end - wait_start).count();
  auto last = first_launch_;
  for (const auto& bucket : buckets_) last = std::max(last, bucket.completed_at);
  timing_.communication_seconds = Seconds(last - first_launch_).count();
}

}  // namespace convoy
