#pragma once
// RankAgreement: checks that every rank holds the same list of entries (the model's
// parameters, the run's options) before the first collective that depends on them, so a
// mismatch is named instead of hanging or silently diverging.

#include <string>
#include <vector>

#include "framework/distributed/communicator.hpp"

namespace convoy {

// Collective. Returns when every rank's `entries` equal rank 0's. Otherwise throws the same
// CollectiveError on every rank, naming the first differing rank and its first differing
// entry beside rank 0's: "rank 1 <verb> X where rank 0 has Y (entry 3): <rule>".
void verify_ranks_agree(Communicator& communicator, const std::vector<std::string>& entries,
                        const std::string& verb, const std::string& rule);

}  // namespace convoy
