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

}  // namespace convoy::kernels
