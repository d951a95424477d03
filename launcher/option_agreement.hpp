#pragma once
// The check that every rank of a job runs a command with the same options, before the first
// collective whose count or size an option decides.

#include <string>
#include <vector>

#include "framework/distributed/communicator.hpp"
#include "launcher/run_config.hpp"

namespace convoy::launcher {

// Collective. Throws the same CollectiveError on every rank when a rank's options differ from
// rank 0's, naming the first rank and option ("rank 1 runs with batch-size = 32 where rank 0
// has batch-size = 64 ..."). `command_options` adds the command's own ("steps = 20").
void verify_ranks_share_options(Communicator& communicator, const RunConfig& config,
                                const std::vector<std::string>& command_options = {});

}  // namespace convoy::launcher
