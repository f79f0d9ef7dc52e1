#include "federation/identity.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/json_writer.h"
#include "base/time.h"
#include "base/uuid.h"

namespace cordon::federation {
namespace {

std::string IdentityPath(const std::string& d) { return d + "/identity.json"; }
std::string KeyPath(const std::string& d) { return d + "/identity.key"; }

Status WriteFileAtomically(const std::string& path, const std::string& content, mode_t mode) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return absl::UnavailableError("cannot create '" + tmp + "'");
  ::fchmod(fd, mode);
  bool ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::UnavailableError("cannot write '" + path + "'");
  }
  return absl::OkStatus();
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return absl::NotFoundError("cannot read '" + path + "'");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

Result<NodeIdentity> InitIdentity(const std::string& data_dir, const std::string& name, const std::string& sector,
                                  const std::string& country) {
  if (std::filesystem::exists(IdentityPath(data_dir)) || std::filesystem::exists(KeyPath(data_dir))) {
    return absl::AlreadyExistsError("the node in '" + data_dir + "' already has an identity (" +
                                    IdentityPath(data_dir) + ")");
  }
  if (name.empty()) return absl::InvalidArgumentError("an identity needs a name");
  if (country.size() != 2) return absl::InvalidArgumentError("--country must be an ISO 3166-1 alpha-2 code, e.g. FR");
  NodeIdentity id;
  id.id = "identity--" + NewUuid4();
  id.key = GenerateKeyPair();
  std::string now = FormatTimestamp(Now(), 3);
  std::string o = "{\"type\":\"identity\",\"spec_version\":\"2.1\",\"id\":\"" + id.id + "\",\"created\":\"" + now +
                  "\",\"modified\":\"" + now + "\",\"created_by_ref\":\"" + id.id + "\",\"name\":";
  AppendJsonString(o, name);
  o += ",\"identity_class\":\"organization\"";
  if (!sector.empty()) {
    o += ",\"sectors\":[";
    AppendJsonString(o, sector);
    o += "]";
  }
  o += ",\"x_cordon_country\":";
  AppendJsonString(o, country);
  o += ",\"x_cordon_public_key\":\"" + id.key.public_key + "\"}";
  CORDON_ASSIGN_OR_RETURN(id.object_json, Sign(o, id.key, id.id));
  // The key first: an identity file without its key would be useless.
  CORDON_RETURN_IF_ERROR(WriteFileAtomically(KeyPath(data_dir), Base64(id.key.secret_key) + "\n", 0600));
  CORDON_RETURN_IF_ERROR(WriteFileAtomically(IdentityPath(data_dir), id.object_json + "\n", 0644));
  return id;
}

Result<NodeIdentity> LoadIdentity(const std::string& data_dir) {
  auto object = ReadFile(IdentityPath(data_dir));
  if (!object.ok()) {
    return absl::NotFoundError("the node in '" + data_dir + "' has no identity (run: cordon identity init --data " +
                               data_dir + " --name ... --sector ... --country ..)");
  }
  CORDON_ASSIGN_OR_RETURN(std::string secret, ReadFile(KeyPath(data_dir)));
  struct stat st{};
  if (::stat(KeyPath(data_dir).c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(KeyPath(data_dir) + " is readable by others (chmod 600 it)");
  }
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  NodeIdentity id;
  CORDON_ASSIGN_OR_RETURN(id.key, KeyPairFromSecret(secret));
  while (!object->empty() && (object->back() == '\n')) object->pop_back();
  id.object_json = std::move(*object);
  simdjson::dom::parser parser;
  std::string_view sid;
  if (parser.parse(id.object_json).at_key("id").get(sid)) {
    return absl::InvalidArgumentError(IdentityPath(data_dir) + ": no id");
  }
  id.id = std::string(sid);
  CORDON_RETURN_IF_ERROR(Verify(id.object_json, id.key.public_key));
  return id;
}

Result<std::string> SignedExtensionDefinition(const NodeIdentity& identity) {
  simdjson::dom::parser parser;
  std::string_view created;
  if (parser.parse(identity.object_json).at_key("created").get(created)) {
    return absl::InvalidArgumentError("identity without created");
  }
  return Sign(SignatureExtensionDefinition(identity.id, created), identity.key, identity.id);
}

}  // namespace cordon::federation
