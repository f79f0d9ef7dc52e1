// pattern validate / pattern match: checking STIX patterns by hand.
#include <iostream>

#include "base/strings.h"
#include "cli/common.h"
#include "pattern/evaluator.h"
#include "pattern/pattern.h"

namespace cordon::cli {
namespace {

int PatternValidate(Context& c, const std::string& pattern, const std::string& version) {
  pattern::Version v = version == "2.0" ? pattern::Version::k20 : pattern::Version::k21;
  auto check = [&](const std::string& p) {
    Status s = pattern::Validate(p, v);
    if (s.ok()) {
      c.out << "ok\n";
      return true;
    }
    c.out << "error: " << s.message() << "\n";
    return false;
  };
  if (pattern != "-") return check(pattern) ? 0 : 1;
  bool all_ok = true;
  std::string line;
  while (std::getline(c.in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty()) continue;
    all_ok &= check(line);
  }
  return all_ok ? 0 : 1;
}

// Exit status: 0 match, 1 no match, 2 invalid pattern or data (message on stderr).
int PatternMatch(Context& c, const std::string& text, const std::string& observed_file,
                 const std::string& version) {
  pattern::Version v = version == "2.0" ? pattern::Version::k20 : pattern::Version::k21;
  auto parsed = pattern::Parse(text, v);
  if (!parsed.ok()) return c.Fail(absl::InvalidArgumentError("pattern: " + std::string(parsed.status().message())));
  if (Status s = pattern::ValidateSemantics(*parsed); !s.ok()) {
    return c.Fail(absl::InvalidArgumentError("pattern: " + std::string(s.message())));
  }
  auto json = ReadAll(observed_file, c.in);
  if (!json.ok()) return c.Fail(json.status());
  auto observed = pattern::LoadObserved(*json, v);
  if (!observed.ok()) {
    return c.Fail(absl::InvalidArgumentError(observed_file + ": " + std::string(observed.status().message())));
  }
  auto result = pattern::Evaluate(*parsed, *observed);
  if (!result.ok()) return c.Fail(result.status());
  c.out << (result->matched ? "match" : "no match") << "\n";
  return result->matched ? 0 : 1;
}

}  // namespace

void AddPatternCommands(Registrar& r) {
  struct Options {
    std::string pattern_text, stix_version = "2.1", observed_file;
  };
  auto o = std::make_shared<Options>();
  Context& c = r.c;
  auto& action = r.action;
  auto* pattern = r.app.add_subcommand("pattern", "STIX patterns");
  pattern->require_subcommand(1);
  auto* validate = pattern->add_subcommand("validate", "check STIX patterns; prints ok or the error with its column");
  validate->add_option("pattern", o->pattern_text, "the pattern, or '-' to read one per line from stdin")->required();
  validate->add_option("--stix-version", o->stix_version, "2.0 or 2.1")
      ->capture_default_str()
      ->check(CLI::IsMember({"2.0", "2.1"}));
  validate->callback([o, &c, &action] {
    action = [o, &c] { return PatternValidate(c, o->pattern_text, o->stix_version); };
  });

  auto* match = pattern->add_subcommand(
      "match", "evaluate a pattern against observed data; prints match or no match (exit 0 / 1; 2 on error)");
  match->add_option("pattern", o->pattern_text, "the STIX pattern")->required();
  match->add_option("--observed", o->observed_file,
                    "a bundle or JSON list of observed-data and SCOs ('-' = stdin)")->required();
  match->add_option("--stix-version", o->stix_version, "2.0 or 2.1")
      ->capture_default_str()
      ->check(CLI::IsMember({"2.0", "2.1"}));
  match->callback([o, &c, &action] {
    action = [o, &c] { return PatternMatch(c, o->pattern_text, o->observed_file, o->stix_version); };
  });
}

}  // namespace cordon::cli
