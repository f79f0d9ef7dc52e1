#include "cli/commands.h"

#include "cli/common.h"

namespace cordon::cli {

int Run(int argc, char** argv, std::istream& in, std::ostream& out, std::ostream& err) {
  Context c{in, out, err};
  CLI::App app{"cordon: a STIX 2.1 store and TAXII 2.1 node for sharing threat intelligence"};
  app.require_subcommand(1);
  std::function<int()> action;
  Registrar r{app, c, action};
  // One line per area (cli/*_commands.cc).
  AddNodeCommands(r);
  AddImportCommands(r);
  AddPatternCommands(r);
  AddWarninglistCommands(r);
  AddMatchCommands(r);
  AddPeerCommands(r);
  AddDecideCommands(r);
  AddSyncCommands(r);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports through exceptions; this is the wall where they stop.
    return app.exit(e, out, err);
  }
  return action ? action() : 0;
}

}  // namespace cordon::cli
