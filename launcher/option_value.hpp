#pragma once
// defaulted: a command-line option's value that defaults to what its variable holds, shown in
// --help as one would write it (--lr 0.1, not 0.10000000000000001; --nesterov false, not 0).

#include <boost/program_options.hpp>
#include <charconv>
#include <string>
#include <type_traits>

namespace convoy::launcher {

template <class T>
boost::program_options::typed_value<T>* defaulted(T* target) {
  auto* value = boost::program_options::value(target);
  if constexpr (std::is_same_v<T, bool>) {
    return value->default_value(*target, *target ? "true" : "false");
  } else if constexpr (std::is_floating_point_v<T>) {
    char text[32];  // the shortest text that reads back as the same value
    const auto end = std::to_chars(text, text + sizeof text, *target).ptr;
    return value->default_value(*target, std::string(text, end));
  } else {
    return value->default_value(*target);
  }
}

}  // namespace convoy::launcher
