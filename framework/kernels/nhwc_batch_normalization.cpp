#include "framework/kernels/nhwc_batch_normalization.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "framework/kernels/kernel_timing.hpp"
#include "framework/kernels/lanes.hpp"

// This file is compiled with -ffp-contract=fast (CMakeLists.txt): in the x86-64-v3 clones below,
// a * b + c becomes one fused multiply-add.

namespace convoy::kernels::nhwc_batch_normalization {

// Why the loops look like this:
// 1. Batch normalization is memory-bound, so each direction reads the data twice and no more:
//    forward, per-channel sums, then normalize (+ ReLU); backward, per-channel sums of dy and
//    dy * (x - mean), then dx. In NHWC a row's channels are contiguous: eight per Lanes.
// 2. The statistics need no pass of their own for the mean: the sums are of d = x - pivot, the
//    pivot being the channel's value in the first row ("shifted data", Chan, Golub & LeVeque
//    1983). A sample lies within a few standard deviations of its channel's mean, so
//    variance = S2 / n - (S1 / n)^2 does not cancel away as it does with raw sums when
//    |mean| >> std. Float sums run over one block of kBlockRows rows (a few ulps of error per
//    block) and are then added to double sums, so the error does not grow with N * H * W; float
//    inside the block keeps the inner loop at one add and one multiply-add per eight values.
// 3. Deterministic: OpenMP gives each thread a contiguous range of blocks (static schedule), each
//    thread adds its blocks in order into its own double sums, and those are added in thread
//    order (sum_over_blocks, for both directions). The result is the same bits run to run for a
//    given thread count, as the ranks of a distributed job need.
// 4. Normalizing computes (x - mean) * (scale / std) + shift, the difference first so that a
//    large mean does not cancel; backward computes the same pre-activation, by the same inlined
//    helper, for the fused ReLU's mask instead of keeping a workspace.
// 5. The OpenMP regions sit in the target_clones functions and every other helper is always
//    inlined, so each clone's loops are compiled for its own target (AVX2 + FMA, or baseline
//    SSE2). GCC outlines a parallel region before it inlines, so a region in an always-inlined
//    helper would be compiled for the baseline only: sum_over_blocks, which holds one, is a
//    target_clones function of its own (the AVX2 clone of a caller calls its AVX2 clone).

static constexpr int64_t kBlockRows = 64;
// Channels whose sums one sweep over a block keeps in registers: 4 Lanes (32 channels), two sums
// each, leave registers for the loads.
static constexpr int64_t kGroupLanes = 4;

template <class Lane>
inline constexpr int64_t kWidth = sizeof(Lane) / sizeof(float);

// Calls visit.template operator()<Lane, L>(first) for groups of L Lanes (L <= kGroupLanes) from
// channel `first`, and then for the channels left over, one float at a time.
template <class Visit>
[[gnu::always_inline]] inline void for_channel_groups(int64_t channels, Visit&& visit) {
  constexpr int64_t kGroup = kGroupLanes * kLaneWidth;
  int64_t first = 0;
  for (; first + kGroup <= channels; first += kGroup) visit.template operator()<Lanes, 4>(first);
  static_assert(kGroupLanes == 4, "the switch below covers the shorter groups");
  switch ((channels - first) / kLaneWidth) {
    case 3:
      visit.template operator()<Lanes, 3>(first);
      break;
    case 2:
      visit.template operator()<Lanes, 2>(first);
      break;
    case 1:
      visit.template operator()<Lanes, 1>(first);
      break;
    default:
      break;
  }
  first += (channels - first) / kLaneWidth * kLaneWidth;
  for (; first < channels; ++first) visit.template operator()<float, 1>(first);
}

[[gnu::always_inline]] inline void add_to(double* sums, Lanes value) {
  for (int64_t i = 0; i < kLaneWidth; ++i) sums[i] += value[i];
}
[[gnu::always_inline]] inline void add_to(double* sums, float value) { sums[0] += value; }

// The normalized value before the ReLU, written once for the forward and the backward's mask.
template <class Lane>
[[gnu::always_inline]] inline Lane pre_activation(Lane difference, Lane multiplier, Lane shift) {
  return difference * multiplier + shift;
}

// Per channel (C): what the normalization subtracts and multiplies by.
struct Coefficients {
  std::vector<float> mean, inverse_std;
  std::vector<float> multiplier, shift;  // scale / std and shift (1 / std and 0 without affine)
};

static Coefficients coefficients_of(const float* mean, const float* variance, int64_t channels,
                                    const Parameters& parameters) {
  Coefficients k;
  k.mean.assign(mean, mean + channels);
  k.inverse_std.resize(channels);
  k.multiplier.resize(channels);
  k.shift.resize(channels);
  for (int64_t c = 0; c < channels; ++c) {
    const double inverse_std = 1.0 / std::sqrt(double{variance[c]} + parameters.epsilon);
    const double scale = parameters.scale ? parameters.scale[c] : 1.0f;
    k.inverse_std[c] = static_cast<float>(inverse_std);
    k.multiplier[c] = static_cast<float>(scale * inverse_std);
    k.shift[c] = parameters.shift ? parameters.shift[c] : 0.0f;
  }
  return k;
}

// The blocks of rows, and each thread's two rows of C double sums (zero), in thread order.
struct Blocks {
  explicit Blocks(Rows rows)
      : rows(rows),
        count((rows.count + kBlockRows - 1) / kBlockRows),
        sums(static_cast<size_t>(omp_get_max_threads() * 2 * rows.channels), 0.0) {}

  int64_t begin(int64_t block) const { return block * kBlockRows; }
  int64_t end(int64_t block) const { return std::min(begin(block) + kBlockRows, rows.count); }
  double* sums_of(int thread) { return sums.data() + thread * 2 * rows.channels; }
  // Both rows of sums over all threads, added in thread order: (2 C)
  std::vector<double> totals() const {
    const auto width = static_cast<size_t>(2 * rows.channels);
    std::vector<double> total(width, 0.0);
    for (size_t offset = 0; offset < sums.size(); offset += width)
      for (size_t i = 0; i < width; ++i) total[i] += sums[offset + i];
    return total;
  }

  Rows rows;
  int64_t count;
  std::vector<double> sums;
};

// Both rows of per-channel sums over all rows, added block by block (note 3): (2 C). For every
// block and group of L Lanes from channel `first`, add_block.template operator()<Lane, L>(begin,
// end, first, sums, second_sums) adds the block's sums to the thread's two rows.
template <class AddBlock>
__attribute__((target_clones("arch=x86-64-v3", "default"))) std::vector<double> sum_over_blocks(
    Blocks& blocks, const AddBlock& add_block) {
  const int64_t C = blocks.rows.channels;
#pragma omp parallel
  {
    double* sums = blocks.sums_of(omp_get_thread_num());
#pragma omp for schedule(static)
    for (int64_t block = 0; block < blocks.count; ++block) {
      const int64_t begin = blocks.begin(block), end = blocks.end(block);
      for_channel_groups(
          C, [&]<class Lane, int64_t L>(int64_t first) __attribute__((always_inline)) {
            add_block.template operator()<Lane, L>(begin, end, first, sums, sums + C);
          });
    }
  }
  return blocks.totals();
}

// Over rows [begin, end) and channels [first, first + L lanes): sums of d = x - pivot and d * d,
// with the first row as pivot, added to sums and square_sums.
template <class Lane, int64_t L>
[[gnu::always_inline]] inline void add_statistics(const float* source, int64_t channels,
                                                  int64_t begin, int64_t end, int64_t first,
                                                  double* sums, double* square_sums) {
  constexpr int64_t W = kWidth<Lane>;
  Lane pivot[L], sum[L], square[L];
#pragma GCC unroll 4
  for (int64_t l = 0; l < L; ++l) {
    pivot[l] = load<Lane>(source + first + l * W);
    sum[l] = square[l] = Lane{};
  }
  for (int64_t row = begin; row < end; ++row) {
    const float* x = source + row * channels + first;
#pragma GCC unroll 4
    for (int64_t l = 0; l < L; ++l) {
      const Lane d = load<Lane>(x + l * W) - pivot[l];
      sum[l] += d;
      square[l] += d * d;
    }
  }
#pragma GCC unroll 4
  for (int64_t l = 0; l < L; ++l) {
    add_to(sums + first + l * W, sum[l]);
    add_to(square_sums + first + l * W, square[l]);
  }
}

template <class Lane, int64_t L, bool Relu>
[[gnu::always_inline]] inline void normalize(const float* source, int64_t channels, int64_t begin,
                                             int64_t end, int64_t first, const Coefficients& k,
                                             float* destination) {
  constexpr int64_t W = kWidth<Lane>;
  Lane mean[L], multiplier[L], shift[L];
#pragma GCC unroll 4
  for (int64_t l = 0; l < L; ++l) {
    mean[l] = load<Lane>(k.mean.data() + first + l * W);
    multiplier[l] = load<Lane>(k.multiplier.data() + first + l * W);
    shift[l] = load<Lane>(k.shift.data() + first + l * W);
  }
  for (int64_t row = begin; row < end; ++row) {
    const int64_t offset = row * channels + first;
#pragma GCC unroll 4
    for (int64_t l = 0; l < L; ++l) {
      const Lane y =
          pre_activation(load<Lane>(source + offset + l * W) - mean[l], multiplier[l], shift[l]);
      store(destination + offset + l * W, Relu ? relu_of(y) : y);
    }
  }
}

// Normalizes one block's rows, every channel, with the coefficients k.
[[gnu::always_inline]] inline void normalize_block(const float* source, const Blocks& blocks,
                                                   int64_t block, const Coefficients& k, bool relu,
                                                   float* destination) {
  const int64_t C = blocks.rows.channels, begin = blocks.begin(block), end = blocks.end(block);
  for_channel_groups(
      C, [&]<class Lane, int64_t L>(int64_t first) __attribute__((always_inline)) {
        if (relu) {
          normalize<Lane, L, true>(source, C, begin, end, first, k, destination);
        } else {
          normalize<Lane, L, false>(source, C, begin, end, first, k, destination);
        }
      });
}

__attribute__((target_clones("arch=x86-64-v3", "default"))) void forward_training(
    const float* source, Rows rows, const Parameters& parameters, float* destination, float* mean,
    float* variance) {
  const OwnLoopTimer timer;
  const int64_t C = rows.channels;
  Blocks blocks(rows);
  const std::vector<double> totals = sum_over_blocks(
      blocks, [&]<class Lane, int64_t L>(int64_t begin, int64_t end, int64_t first, double* sums,
                                         double* square_sums) __attribute__((always_inline)) {
        add_statistics<Lane, L>(source, C, begin, end, first, sums, square_sums);
      });
  const double n = static_cast<double>(rows.count);
  for (int64_t c = 0; c < C; ++c) {
    const double shifted_mean = totals[c] / n;  // mean - pivot
    mean[c] = static_cast<float>(source[c] + shifted_mean);
    variance[c] =
        static_cast<float>(std::max(totals[C + c] / n - shifted_mean * shifted_mean, 0.0));
  }
  const Coefficients k = coefficients_of(mean, variance, C, parameters);
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < blocks.count; ++block)
    normalize_block(source, blocks, block, k, parameters.relu, destination);
}

__attribute__((target_clones("arch=x86-64-v3", "default"))) void forward_inference(
    const float* source, Rows rows, const Parameters& parameters, const float* mean,
    const float* variance, float* destination) {
  const OwnLoopTimer timer;
  const Blocks blocks(rows);
  const Coefficients k = coefficients_of(mean, variance, rows.channels, parameters);
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < blocks.count; ++block)
    normalize_block(source, blocks, block, k, parameters.relu, destination);
}

// dy at `at` (channels from c), zero where the fused ReLU (with Relu) cut the forward's output,
// and d = x - mean there: the ReLU's mask recomputed with the forward's own arithmetic.
template <class Lane, bool Relu>
[[gnu::always_inline]] inline Lane masked_gradient(const float* source,
                                                   const float* destination_grad, int64_t at,
                                                   int64_t c, Lane mean, const Coefficients& k,
                                                   Lane& d) {
  d = load<Lane>(source + at) - mean;
  const Lane dy = load<Lane>(destination_grad + at);
  if constexpr (!Relu) return dy;
  const Lane y =
      pre_activation(d, load<Lane>(k.multiplier.data() + c), load<Lane>(k.shift.data() + c));
  return y > Lane{} ? dy : Lane{};
}

// Over rows [begin, end) and channels [first, first + L lanes): sums of dy and dy * (x - mean),
// dy masked by the ReLU (pre-activation > 0) with Relu, added to sums and weighted_sums.
template <class Lane, int64_t L, bool Relu>
[[gnu::always_inline]] inline void add_gradient_sums(const float* source,
                                                     const float* destination_grad,
                                                     int64_t channels, int64_t begin, int64_t end,
                                                     int64_t first, const Coefficients& k,
                                                     double* sums, double* weighted_sums) {
  constexpr int64_t W = kWidth<Lane>;
  Lane mean[L], sum[L], weighted[L];
#pragma GCC unroll 4
  for (int64_t l = 0; l < L; ++l) {
    mean[l] = load<Lane>(k.mean.data() + first + l * W);
    sum[l] = weighted[l] = Lane{};
  }
  for (int64_t row = begin; row < end; ++row) {
    const int64_t offset = row * channels + first;
#pragma GCC unroll 4
    for (int64_t l = 0; l < L; ++l) {
      Lane d;
      const Lane dy = masked_gradient<Lane, Relu>(source, destination_grad, offset + l * W,
                                                  first + l * W, mean[l], k, d);
      sum[l] += dy;
      weighted[l] += dy * d;
    }
  }
#pragma GCC unroll 4
  for (int64_t l = 0; l < L; ++l) {
    add_to(sums + first + l * W, sum[l]);
    add_to(weighted_sums + first + l * W, weighted[l]);
  }
}

// Per channel (C): dx = grad_multiplier * dy + difference_multiplier * (x - mean) + offset, the
// expanded form of scale / std * (dy - mean(dy) - x_hat * mean(dy * x_hat)).
struct GradientCoefficients {
  std::vector<float> grad_multiplier, difference_multiplier, offset;
};

template <class Lane, int64_t L, bool Relu>
[[gnu::always_inline]] inline void source_grad_rows(const float* source,
                                                    const float* destination_grad, int64_t channels,
                                                    int64_t begin, int64_t end, int64_t first,
                                                    const Coefficients& k,
                                                    const GradientCoefficients& g,
                                                    float* source_grad) {
  constexpr int64_t W = kWidth<Lane>;
  Lane mean[L], grad_multiplier[L], difference_multiplier[L], offset[L];
#pragma GCC unroll 4
  for (int64_t l = 0; l < L; ++l) {
    const int64_t c = first + l * W;
    mean[l] = load<Lane>(k.mean.data() + c);
    grad_multiplier[l] = load<Lane>(g.grad_multiplier.data() + c);
    difference_multiplier[l] = load<Lane>(g.difference_multiplier.data() + c);
    offset[l] = load<Lane>(g.offset.data() + c);
  }
  for (int64_t row = begin; row < end; ++row) {
    const int64_t row_offset = row * channels + first;
#pragma GCC unroll 4
    for (int64_t l = 0; l < L; ++l) {
      const int64_t at = row_offset + l * W;
      Lane d;
      const Lane dy =
          masked_gradient<Lane, Relu>(source, destination_grad, at, first + l * W, mean[l], k, d);
      store(source_grad + at, grad_multiplier[l] * dy + (difference_multiplier[l] * d + offset[l]));
    }
  }
}

__attribute__((target_clones("arch=x86-64-v3", "default"))) void backward(
    const float* source, const float* destination_grad, Rows rows, const Parameters& parameters,
    const float* mean, const float* variance, float* source_grad, float* scale_grad,
    float* shift_grad) {
  const OwnLoopTimer timer;
  const int64_t C = rows.channels;
  const Coefficients k = coefficients_of(mean, variance, C, parameters);
  const bool relu = parameters.relu;
  Blocks blocks(rows);
  // sum(dy), sum(dy * (x - mean))
  const std::vector<double> totals = sum_over_blocks(
      blocks, [&]<class Lane, int64_t L>(int64_t begin, int64_t end, int64_t first, double* sums,
                                         double* weighted_sums) __attribute__((always_inline)) {
        if (relu) {
          add_gradient_sums<Lane, L, true>(source, destination_grad, C, begin, end, first, k, sums,
                                           weighted_sums);
        } else {
          add_gradient_sums<Lane, L, false>(source, destination_grad, C, begin, end, first, k, sums,
                                            weighted_sums);
        }
      });
  const double n = static_cast<double>(rows.count);
  GradientCoefficients g{std::vector<float>(C), std::vector<float>(C), std::vector<float>(C)};
  for (int64_t c = 0; c < C; ++c) {
    const double inverse_std = k.inverse_std[c];
    const double shift_gradient = totals[c];
    const double scale_gradient = totals[C + c] * inverse_std;  // sum(dy * x_hat)
    if (scale_grad) scale_grad[c] = static_cast<float>(scale_gradient);
    if (shift_grad) shift_grad[c] = static_cast<float>(shift_gradient);
    const double multiplier = (parameters.scale ? parameters.scale[c] : 1.0) * inverse_std;
    g.grad_multiplier[c] = static_cast<float>(multiplier);
    g.difference_multiplier[c] = static_cast<float>(-multiplier * inverse_std * scale_gradient / n);
    g.offset[c] = static_cast<float>(-multiplier * shift_gradient / n);
  }
#pragma omp parallel for schedule(static)
  for (int64_t block = 0; block < blocks.count; ++block) {
    const int64_t begin = blocks.begin(block), end = blocks.end(block);
    for_channel_groups(
        C, [&]<class Lane, int64_t L>(int64_t first) __attribute__((always_inline)) {
          if (relu) {
            source_grad_rows<Lane, L, true>(source, destination_grad, C, begin, end, first, k, g,
                                            source_grad);
          } else {
            source_grad_rows<Lane, L, false>(source, destination_grad, C, begin, end, first, k, g,
                                             source_grad);
          }
        });
  }
}

}  // namespace convoy::kernels::nhwc_batch_normalization
