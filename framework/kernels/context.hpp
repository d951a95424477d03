#pragma once
// The process-wide compute context: one oneDNN CPU engine and stream, and the thread count.

namespace convoy::kernels {

// Sets the number of OpenMP threads oneDNN and convoy's own loops use.
void set_thread_count(int threads);
int thread_count();

// Name of the best ISA oneDNN found on this CPU (e.g. "avx512_core_bf16"), for logs and bench.
const char* cpu_isa_name();

// True when this CPU runs bf16 convolutions natively (AVX512-BF16 or AMX).
bool cpu_has_bf16();

// Whether convoy's own Winograd loops run their AVX-512 versions (16 floats a vector) on this
// CPU: where it has x86-64-v4 and they are allowed (the default). Lane by lane they compute the
// same bits as the AVX2 versions; tests switch them off to compare.
bool wide_lanes_in_use();
void allow_wide_lanes(bool allowed);

}  // namespace convoy::kernels
