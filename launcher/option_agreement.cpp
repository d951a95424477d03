#include "launcher/option_agreement.hpp"

#include "framework/distributed/rank_agreement.hpp"

namespace convoy::launcher {

void verify_ranks_share_options(Communicator& communicator, const RunConfig& config,
                                const std::vector<std::string>& command_options) {
  std::vector<std::string> entries = config.options_every_rank_shares();
  entries.insert(entries.end(), command_options.begin(), command_options.end());
  verify_ranks_agree(communicator, entries, "runs with",
                     "every rank of a job must run with the same options");
}

}  // namespace convoy::launcher
