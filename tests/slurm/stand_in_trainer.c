/* A stand-in for `convoy` that proves the Slurm scripts' signal and requeue path on a real
 * cluster before the real trainer exists. It speaks the same command line and exit codes:
 *
 *   stand_in_trainer train --recipe NAME --run-dir DIR [--resume auto|none|PATH]
 *                          [--threads T] [--max-steps N] [--step-ms MS] [--checkpoint-every K]
 *   stand_in_trainer inspect --hash PATH       (PATH: a checkpoint file or a run folder)
 *   stand_in_trainer eval --checkpoint PATH [--json]
 *
 * Why it behaves as it does:
 *  1. "Training" is one allreduce per step folding every rank's contribution into a 64-bit
 *     "parameters" value, so the final value depends on every step having run exactly once
 *     in order: a resume that skips or repeats a step gives a different hash.
 *  2. SIGUSR1/SIGTERM only set a flag; the flag rides on the step's allreduce, so all ranks
 *     agree on the same step, finish it, rank 0 checkpoints, everyone meets at a barrier and
 *     exits 75 (EX_TEMPFAIL) -- the same protocol convoy train implements. The barrier matters:
 *     mpirun kills the other ranks as soon as one exits non-zero.
 *  3. Checkpoints are written atomically (temporary file + rename) with a "latest" pointer, as
 *     checkpoints/CheckpointDirectory does, so a kill at any moment leaves a readable one.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <mpi.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { kExitSuccess = 0, kExitFailure = 1, kExitUsage = 2, kExitPreempted = 75 };

static volatile sig_atomic_t stop_requested = 0;

static void on_stop_signal(int signal_number) { stop_requested = signal_number; }

struct Options {
  const char* recipe;
  const char* run_dir;
  const char* resume;
  int threads;
  long max_steps;
  long step_ms;
  long checkpoint_every;
};

struct State {
  long step;
  uint64_t parameters;
};

static uint64_t mix(uint64_t value) { /* splitmix64 finalizer */
  value ^= value >> 30;
  value *= 0xbf58476d1ce4e5b9ULL;
  value ^= value >> 27;
  value *= 0x94d049bb133111ebULL;
  return value ^ (value >> 31);
}

static int fail(const char* message, const char* detail) {
  fprintf(stderr, "stand_in_trainer: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
  return kExitFailure;
}

static int read_checkpoint(const char* path, struct State* state) {
  FILE* file = fopen(path, "r");
  if (!file) return fail("cannot open checkpoint", path);
  int fields = fscanf(file, "stand_in_checkpoint step %ld parameters %" SCNx64, &state->step,
                      &state->parameters);
  fclose(file);
  return fields == 2 ? kExitSuccess : fail("malformed checkpoint", path);
}

/* A run folder's newest checkpoint, through its "latest" pointer; 1 when there is none. */
static int latest_checkpoint(const char* run_dir, char* path, size_t size) {
  char pointer[4096];
  snprintf(pointer, sizeof pointer, "%s/latest", run_dir);
  FILE* file = fopen(pointer, "r");
  if (!file) return 1;
  char name[1024] = {0};
  int fields = fscanf(file, "%1023s", name);
  fclose(file);
  if (fields != 1) return 1;
  snprintf(path, size, "%s/%s", run_dir, name);
  return 0;
}

static int write_atomically(const char* path, const char* text) {
  char temporary[4200];
  snprintf(temporary, sizeof temporary, "%s.tmp.%ld", path, (long)getpid());
  FILE* file = fopen(temporary, "w");
  if (!file) return fail("cannot write", temporary);
  fputs(text, file);
  fflush(file);
  fsync(fileno(file));
  fclose(file);
  if (rename(temporary, path) != 0) return fail("cannot rename to", path);
  return kExitSuccess;
}

static int write_checkpoint(const char* run_dir, const struct State* state) {
  char name[64], path[4200], text[128];
  snprintf(name, sizeof name, "checkpoint-step%08ld.txt", state->step);
  snprintf(path, sizeof path, "%s/%s", run_dir, name);
  snprintf(text, sizeof text, "stand_in_checkpoint step %ld parameters %016" PRIx64 "\n",
           state->step, state->parameters);
  if (write_atomically(path, text) != kExitSuccess) return kExitFailure;
  char pointer[4200], pointer_text[80];
  snprintf(pointer, sizeof pointer, "%s/latest", run_dir);
  snprintf(pointer_text, sizeof pointer_text, "%s\n", name);
  return write_atomically(pointer, pointer_text);
}

static void sleep_milliseconds(long milliseconds) {
  struct timespec duration = {milliseconds / 1000, (milliseconds % 1000) * 1000000L};
  while (nanosleep(&duration, &duration) != 0 && errno == EINTR && !stop_requested) {
  }
}

static int parse_train_options(int argc, char** argv, struct Options* options) {
  *options = (struct Options){NULL, NULL, "auto", 1, 20, 200, 5};
  for (int i = 2; i < argc; ++i) {
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (!value) return fail("option needs a value", argv[i]);
    if (strcmp(argv[i], "--recipe") == 0)
      options->recipe = value;
    else if (strcmp(argv[i], "--run-dir") == 0)
      options->run_dir = value;
    else if (strcmp(argv[i], "--resume") == 0)
      options->resume = value;
    else if (strcmp(argv[i], "--threads") == 0)
      options->threads = atoi(value);
    else if (strcmp(argv[i], "--max-steps") == 0)
      options->max_steps = atol(value);
    else if (strcmp(argv[i], "--step-ms") == 0)
      options->step_ms = atol(value);
    else if (strcmp(argv[i], "--checkpoint-every") == 0)
      options->checkpoint_every = atol(value);
    else
      return fail("unknown option", argv[i]);
    ++i;
  }
  if (!options->recipe || !options->run_dir) return fail("train needs --recipe and --run-dir", 0);
  return kExitSuccess;
}

/* Rank 0 decides where to start; every rank receives the same state. */
static int load_start_state(const struct Options* options, int rank, struct State* state) {
  long message[3] = {kExitSuccess, 0, 0};
  if (rank == 0) {
    char path[4200];
    int found = 0;
    if (strcmp(options->resume, "auto") == 0) {
      found = latest_checkpoint(options->run_dir, path, sizeof path) == 0;
    } else if (strcmp(options->resume, "none") != 0) {
      snprintf(path, sizeof path, "%s", options->resume);
      found = 1;
    }
    struct State loaded = {0, 0x636f6e766f79ULL};
    if (found) message[0] = read_checkpoint(path, &loaded);
    message[1] = loaded.step;
    message[2] = (long)loaded.parameters;
    if (found && message[0] == kExitSuccess) {
      const char* restarts = getenv("SLURM_RESTART_COUNT");
      printf("stand_in: resumed from step %ld (%s) restart_count=%s\n", loaded.step, path,
             restarts ? restarts : "0");
    }
  }
  MPI_Bcast(message, 3, MPI_LONG, 0, MPI_COMM_WORLD);
  state->step = message[1];
  state->parameters = (uint64_t)message[2];
  return (int)message[0];
}

/* One line naming where every rank ran, so the test can check the ranks spanned both nodes. */
static void report_placement(int rank, int world_size, const struct Options* options) {
  char node[64] = {0};
  const char* slurm_node = getenv("SLURMD_NODENAME");
  snprintf(node, sizeof node, "%s", slurm_node ? slurm_node : "none");
  char* nodes = rank == 0 ? calloc((size_t)world_size, sizeof node) : NULL;
  MPI_Gather(node, sizeof node, MPI_CHAR, nodes, sizeof node, MPI_CHAR, 0, MPI_COMM_WORLD);
  if (rank == 0) {
    const char* omp = getenv("OMP_NUM_THREADS");
    printf("stand_in: world_size=%d threads=%d OMP_NUM_THREADS=%s nodes=", world_size,
           options->threads, omp ? omp : "unset");
    for (int i = 0; i < world_size; ++i) printf("%s%s", i ? "," : "", nodes + i * sizeof node);
    printf("\n");
    free(nodes);
  }
}

static int train(int argc, char** argv) {
  struct Options options;
  int rank = 0, world_size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  if (parse_train_options(argc, argv, &options) != kExitSuccess) return kExitUsage;
  if (rank == 0) mkdir(options.run_dir, 0755);
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_stop_signal;
  sigaction(SIGUSR1, &action, NULL);
  sigaction(SIGTERM, &action, NULL);

  struct State state;
  if (load_start_state(&options, rank, &state) != kExitSuccess) return kExitFailure;
  report_placement(rank, world_size, &options);
  while (state.step < options.max_steps) {
    sleep_milliseconds(options.step_ms);
    uint64_t local[2] = {mix(state.parameters + (uint64_t)rank + 1), stop_requested ? 1 : 0};
    uint64_t global[2];
    MPI_Allreduce(local, global, 2, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
    state.parameters = mix(state.parameters ^ global[0]);
    ++state.step;
    int preempted = global[1] != 0;
    int periodic = options.checkpoint_every > 0 && state.step % options.checkpoint_every == 0;
    int status = kExitSuccess;
    if (rank == 0 && (preempted || periodic || state.step == options.max_steps))
      status = write_checkpoint(options.run_dir, &state);
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (status != kExitSuccess) return kExitFailure;
    if (rank == 0 && state.step % 5 == 0) printf("stand_in: step %ld\n", state.step);
    if (preempted) {
      if (rank == 0) {
        printf("stand_in: preempted at step %ld: checkpointed, exit %d\n", state.step,
               kExitPreempted);
      }
      fflush(stdout);
      MPI_Barrier(MPI_COMM_WORLD);
      return kExitPreempted;
    }
    fflush(stdout);
  }
  if (rank == 0) {
    printf("stand_in: finished step %ld parameters %016" PRIx64 "\n", state.step, state.parameters);
  }
  fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  return kExitSuccess;
}

static int inspect_hash(const char* path) {
  char checkpoint[4200];
  struct stat info;
  if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
    if (latest_checkpoint(path, checkpoint, sizeof checkpoint) != 0)
      return fail("no checkpoint in run folder", path);
  } else {
    snprintf(checkpoint, sizeof checkpoint, "%s", path);
  }
  struct State state;
  if (read_checkpoint(checkpoint, &state) != kExitSuccess) return kExitFailure;
  printf("%016" PRIx64 "\n", state.parameters);
  return kExitSuccess;
}

static int eval(const char* path, int json) {
  struct State state;
  if (read_checkpoint(path, &state) != kExitSuccess) return kExitFailure;
  /* A made-up but deterministic "accuracy" so the eval script has a value to report. */
  double accuracy = (double)(state.parameters % 10000) / 10000.0;
  if (json)
    printf("{\"step\": %ld, \"accuracy\": %.4f}\n", state.step, accuracy);
  else
    printf("step %ld accuracy %.4f\n", state.step, accuracy);
  return kExitSuccess;
}

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "train") == 0) {
    MPI_Init(&argc, &argv);
    int status = train(argc, argv);
    MPI_Finalize();
    return status;
  }
  if (argc == 4 && strcmp(argv[1], "inspect") == 0 && strcmp(argv[2], "--hash") == 0)
    return inspect_hash(argv[3]);
  if (argc >= 4 && strcmp(argv[1], "eval") == 0 && strcmp(argv[2], "--checkpoint") == 0)
    return eval(argv[3], argc == 5 && strcmp(argv[4], "--json") == 0);
  fprintf(stderr, "usage: stand_in_trainer train|inspect --hash PATH|eval --checkpoint PATH\n");
  return kExitUsage;
}
