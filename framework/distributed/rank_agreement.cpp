#include "framework/distributed/rank_agreement.hpp"

#include <xxhash.h>

#include <sstream>

#include "framework/common/error.hpp"

namespace convoy {

void verify_ranks_agree(Communicator& communicator, const std::vector<std::string>& entries,
                        const std::string& verb, const std::string& rule) {
  std::string text;
  for (const auto& entry : entries) text += entry + "\n";
  // A hash first: in the common case one small allgather is all this costs.
  const uint64_t hash = XXH3_64bits(text.data(), text.size());
  const auto hashes = communicator.allgather(hash);
  int differing = -1;
  for (int rank = 1; rank < communicator.world_size() && differing < 0; ++rank) {
    if (hashes[rank] != hashes[0]) differing = rank;
  }
  if (differing < 0) return;
  // Rank 0 sends its list; the first differing rank names the first entry that differs and
  // sends the message back to everyone, so every rank throws the same error.
  std::string reference = text;
  communicator.broadcast(reference, 0);
  std::string message;
  if (communicator.rank() == differing) {
    std::vector<std::string> theirs;
    std::istringstream lines(reference);
    for (std::string line; std::getline(lines, line);) theirs.push_back(line);
    size_t index = 0;
    while (index < entries.size() && index < theirs.size() && entries[index] == theirs[index])
      ++index;
    auto entry = [&](const std::vector<std::string>& list) {
      return index < list.size() ? list[index] : std::string("nothing more");
    };
    message = "rank " + std::to_string(differing) + " " + verb + " " + entry(entries) +
              " where rank 0 has " + entry(theirs) + " (entry " + std::to_string(index) +
              "): " + rule;
  }
  communicator.broadcast(message, differing);
  throw CollectiveError(message);
}

}  // namespace convoy
