// warninglist add|list|remove: the node's known-good lists (DATA/warninglists/).
#include <iostream>

#include "cli/common.h"
#include "feeds/warninglist.h"

namespace cordon::cli {
namespace {

int Add(Context& c, const std::string& data, const std::vector<std::string>& files) {
  if (!fs::is_directory(data)) return c.Fail(absl::NotFoundError("no data directory '" + data + "'"));
  // Validate every file before storing any, so a bad file stores nothing.
  std::vector<std::string> texts;
  for (const auto& file : files) {
    auto text = ReadAll(file, c.in);
    if (!text.ok()) return c.Fail(text.status());
    if (auto wl = feeds::ParseWarningList(*text); !wl.ok()) {
      return c.Fail(absl::InvalidArgumentError(file + ": " + std::string(wl.status().message())));
    }
    texts.push_back(std::move(*text));
  }
  for (size_t i = 0; i < files.size(); ++i) {
    auto stored = feeds::AddStoredList(data, texts[i]);
    if (!stored.ok()) return c.Fail(stored.status());
    c.out << "warning list " << stored->slug << " (" << stored->list.name << "): "
          << feeds::ListTypeName(stored->list.type) << ", " << stored->list.entries.size() << " entries\n";
  }
  return 0;
}

int List(Context& c, const std::string& data) {
  auto stored = feeds::ListStored(data);
  if (!stored.ok()) return c.Fail(stored.status());
  for (const auto& s : *stored) {
    c.out << s.slug << "  " << feeds::ListTypeName(s.list.type) << "  " << s.list.entries.size()
          << " entries  v" << s.list.version << "  " << s.list.name << "\n";
  }
  return 0;
}

int Remove(Context& c, const std::string& data, const std::vector<std::string>& names) {
  for (const auto& n : names) {
    if (auto st = feeds::RemoveStored(data, n); !st.ok()) return c.Fail(st);
    c.out << "removed warning list " << n << "\n";
  }
  return 0;
}

}  // namespace

void AddWarninglistCommands(Registrar& r) {
  struct Options {
    std::string data;
    std::vector<std::string> files, names;
  };
  auto o = std::make_shared<Options>();
  Context& c = r.c;
  auto& action = r.action;
  auto* wl = r.app.add_subcommand("warninglist", "manage warning lists (known-good values, MISP format)");
  wl->require_subcommand(1);
  auto* add = wl->add_subcommand("add", "validate and store MISP warning-list JSON files (replaces same name)");
  AddDataOption(add, o->data);
  add->add_option("files", o->files, "warning-list JSON files ('-' = stdin)")->required();
  add->callback([o, &c, &action] { action = [o, &c] { return Add(c, o->data, o->files); }; });
  auto* list = wl->add_subcommand("list", "list stored warning lists");
  AddDataOption(list, o->data);
  list->callback([o, &c, &action] { action = [o, &c] { return List(c, o->data); }; });
  auto* rm = wl->add_subcommand("remove", "remove stored warning lists (by slug or name)");
  AddDataOption(rm, o->data);
  rm->add_option("names", o->names, "slugs (as listed) or names")->required();
  rm->callback([o, &c, &action] { action = [o, &c] { return Remove(c, o->data, o->names); }; });
}

}  // namespace cordon::cli
