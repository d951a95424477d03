#pragma once
// A fresh directory per test, removed afterwards; tests write their small dataset files here.

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace convoy::testing {

class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = std::filesystem::temp_directory_path() /
            ("convoy-" + std::string(info->test_suite_name()) + "-" + info->name() + "-" +
             std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TemporaryDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Runs `action`, expecting an exception of type E whose message contains every fragment.
template <typename E, typename Action>
void expect_error_mentioning(Action&& action, std::initializer_list<std::string> fragments) {
  try {
    action();
    ADD_FAILURE() << "expected an exception, none was thrown";
  } catch (const E& error) {
    const std::string message = error.what();
    for (const std::string& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "message \"" << message << "\" does not mention \"" << fragment << "\"";
    }
  }
}

}  // namespace convoy::testing
