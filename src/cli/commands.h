// The `cordon` subcommands. Each returns the process exit status and writes
// results to `out`, errors to `err` (one line each, prefixed "cordon: ").
#pragma once

#include <iosfwd>

namespace cordon::cli {

// Parses argv and runs the chosen subcommand. Never throws.
int Run(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace cordon::cli
