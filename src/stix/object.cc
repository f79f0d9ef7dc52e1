// STIX 2.0 / 2.1 object validation.
//
// One simdjson DOM parse per object (thread_local parser and padded buffer),
// then one pass over the top-level properties driven by static property tables
// (per type, plus the common properties of the type's category), then a few
// cross-property rules per type. Paths of problems are rendered only when a
// problem is found.
#include "stix/object.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <span>
#include <string>

#include "absl/container/inlined_vector.h"
#include "base/strings.h"
#include "base/uuid.h"
#include "pattern/pattern.h"

namespace cordon::stix {

std::string_view SpecVersionName(SpecVersion v) { return v == SpecVersion::k20 ? "2.0" : "2.1"; }

std::string Problem::ToString() const {
  std::string out = object_id;
  for (const std::string* part : {&property, &reason}) {
    if (part->empty()) continue;
    if (!out.empty()) out += ": ";
    out += *part;
  }
  return out;
}

namespace {

namespace dom = simdjson::dom;

// ---------------------------------------------------------------------------
// Property tables.

enum class K : uint8_t {
  kString,
  kStringList,
  kTimestamp,
  kBool,
  kInt,         // range [min, max]
  kNumber,      // range [min, max]
  kRef,         // arg: allowed target types ("" = any identifier)
  kRefList,     // arg: allowed target types
  kDict,        // a JSON object
  kObjList,     // a non-empty list of JSON objects
  kHashes,      // dictionary of hash name -> string
  kKillChain,   // list of kill-chain-phase
  kExtRefs,     // list of external-reference
  kGranular,    // list of granular-marking
  kExtensions,  // extensions dictionary
  kEnum,        // arg: comma-separated allowed values
  kEnumList,    // arg: comma-separated allowed values
  kObservables, // observed-data "objects" dictionary
  kMimeParts,   // email-message body_multipart
};

// Bits of Prop::flags.
constexpr uint8_t V20 = 1;             // defined in STIX 2.0
constexpr uint8_t V21 = 2;             // defined in STIX 2.1
constexpr uint8_t VB = V20 | V21;      // defined in both
constexpr uint8_t R20 = 4 | V20;       // required in 2.0
constexpr uint8_t R21 = 8 | V21;       // required in 2.1
constexpr uint8_t RB = R20 | R21;      // required in both
constexpr int64_t kMaxI = std::numeric_limits<int64_t>::max();

struct Prop {
  std::string_view name;
  K kind;
  uint8_t flags;
  // Reference targets: type names and categories "@sdo", "@sco", "@sro",
  // comma-separated; "" = any identifier. Enum values for kEnum/kEnumList.
  std::string_view arg = {};
  int64_t min = 0;
  int64_t max = 0;  // a range applies when min < max
};

bool Defined(const Prop& p, SpecVersion v) { return p.flags & (v == SpecVersion::k20 ? V20 : V21); }
bool Required(const Prop& p, SpecVersion v) { return p.flags & (v == SpecVersion::k20 ? 4 : 8); }

enum class Cat : uint8_t { kSdo, kSro, kSco, kMarking, kLanguage, kExtDef, kBundle, kCustom };

constexpr Prop kSdoCommon[] = {
    {"created_by_ref", K::kRef, VB, "identity"},
    {"created", K::kTimestamp, RB},
    {"modified", K::kTimestamp, RB},
    {"revoked", K::kBool, VB},
    {"labels", K::kStringList, VB},
    {"confidence", K::kInt, V21, "", 0, 100},
    {"lang", K::kString, V21},
    {"external_references", K::kExtRefs, VB},
    {"object_marking_refs", K::kRefList, VB, "marking-definition"},
    {"granular_markings", K::kGranular, VB},
    {"extensions", K::kExtensions, V21},
};

constexpr Prop kScoCommon[] = {
    {"object_marking_refs", K::kRefList, V21, "marking-definition"},
    {"granular_markings", K::kGranular, V21},
    {"defanged", K::kBool, V21},
    {"extensions", K::kExtensions, V21},
};

constexpr Prop kMarkingCommon[] = {
    {"created_by_ref", K::kRef, VB, "identity"},
    {"created", K::kTimestamp, RB},
    {"external_references", K::kExtRefs, VB},
    {"object_marking_refs", K::kRefList, VB, "marking-definition"},
    {"granular_markings", K::kGranular, VB},
    {"extensions", K::kExtensions, V21},
    {"name", K::kString, V21},
    // Required in 2.1 too unless extensions are used (checked by MarkingRules).
    {"definition_type", K::kString, R20 | V21},
    {"definition", K::kDict, R20 | V21},
};

constexpr Prop kAttackPattern[] = {
    {"name", K::kString, RB},
    {"description", K::kString, VB},
    {"aliases", K::kStringList, V21},
    {"kill_chain_phases", K::kKillChain, VB},
};
constexpr Prop kCampaign[] = {
    {"name", K::kString, RB},          {"description", K::kString, VB},
    {"aliases", K::kStringList, VB},   {"first_seen", K::kTimestamp, VB},
    {"last_seen", K::kTimestamp, VB},  {"objective", K::kString, VB},
};
constexpr Prop kCourseOfAction[] = {
    {"name", K::kString, RB},
    {"description", K::kString, VB},
};
constexpr Prop kGrouping[] = {
    {"name", K::kString, V21},
    {"description", K::kString, V21},
    {"context", K::kString, R21},
    {"object_refs", K::kRefList, R21},
};
constexpr Prop kIdentity[] = {
    {"name", K::kString, RB},
    {"description", K::kString, VB},
    {"roles", K::kStringList, VB},
    {"identity_class", K::kString, R20 | V21},
    {"sectors", K::kStringList, VB},
    {"contact_information", K::kString, VB},
};
constexpr Prop kIncident[] = {
    {"name", K::kString, R21},
    {"description", K::kString, V21},
    {"kill_chain_phases", K::kKillChain, V21},
};
constexpr Prop kIndicator[] = {
    {"labels", K::kStringList, R20},
    {"name", K::kString, VB},
    {"description", K::kString, VB},
    {"indicator_types", K::kStringList, V21},
    {"pattern", K::kString, RB},
    {"pattern_type", K::kString, R21},
    {"pattern_version", K::kString, V21},
    {"valid_from", K::kTimestamp, RB},
    {"valid_until", K::kTimestamp, VB},
    {"kill_chain_phases", K::kKillChain, VB},
};
constexpr Prop kInfrastructure[] = {
    {"name", K::kString, R21},
    {"description", K::kString, V21},
    {"infrastructure_types", K::kStringList, V21},
    {"aliases", K::kStringList, V21},
    {"kill_chain_phases", K::kKillChain, V21},
    {"first_seen", K::kTimestamp, V21},
    {"last_seen", K::kTimestamp, V21},
};
constexpr Prop kIntrusionSet[] = {
    {"name", K::kString, RB},
    {"description", K::kString, VB},
    {"aliases", K::kStringList, VB},
    {"first_seen", K::kTimestamp, VB},
    {"last_seen", K::kTimestamp, VB},
    {"goals", K::kStringList, VB},
    {"resource_level", K::kString, VB},
    {"primary_motivation", K::kString, VB},
    {"secondary_motivations", K::kStringList, VB},
};
constexpr Prop kLocation[] = {
    {"name", K::kString, V21},
    {"description", K::kString, V21},
    {"latitude", K::kNumber, V21, "", -90, 90},
    {"longitude", K::kNumber, V21, "", -180, 180},
    {"precision", K::kNumber, V21, "", 0, kMaxI},
    {"region", K::kString, V21},
    {"country", K::kString, V21},
    {"administrative_area", K::kString, V21},
    {"city", K::kString, V21},
    {"street_address", K::kString, V21},
    {"postal_code", K::kString, V21},
};
constexpr Prop kMalware[] = {
    {"labels", K::kStringList, R20},
    {"name", K::kString, R20 | V21},
    {"description", K::kString, VB},
    {"kill_chain_phases", K::kKillChain, VB},
    {"is_family", K::kBool, R21},
    {"malware_types", K::kStringList, V21},
    {"aliases", K::kStringList, V21},
    {"first_seen", K::kTimestamp, V21},
    {"last_seen", K::kTimestamp, V21},
    {"operating_system_refs", K::kRefList, V21, "software"},
    {"architecture_execution_envs", K::kStringList, V21},
    {"implementation_languages", K::kStringList, V21},
    {"capabilities", K::kStringList, V21},
    {"sample_refs", K::kRefList, V21, "file,artifact"},
};
constexpr Prop kMalwareAnalysis[] = {
    {"product", K::kString, R21},
    {"version", K::kString, V21},
    {"host_vm_ref", K::kRef, V21, "software"},
    {"operating_system_ref", K::kRef, V21, "software"},
    {"installed_software_refs", K::kRefList, V21, "software"},
    {"configuration_version", K::kString, V21},
    {"modules", K::kStringList, V21},
    {"analysis_engine_version", K::kString, V21},
    {"analysis_definition_version", K::kString, V21},
    {"submitted", K::kTimestamp, V21},
    {"analysis_started", K::kTimestamp, V21},
    {"analysis_ended", K::kTimestamp, V21},
    {"result_name", K::kString, V21},
    {"result", K::kString, V21},
    {"analysis_sco_refs", K::kRefList, V21, "@sco"},
    {"sample_ref", K::kRef, V21, "file,network-traffic,artifact"},
};
constexpr Prop kNote[] = {
    {"abstract", K::kString, V21},
    {"content", K::kString, R21},
    {"authors", K::kStringList, V21},
    {"object_refs", K::kRefList, R21},
};
constexpr Prop kObservedData[] = {
    {"first_observed", K::kTimestamp, RB},
    {"last_observed", K::kTimestamp, RB},
    {"number_observed", K::kInt, RB, "", 1, 999999999},
    {"objects", K::kObservables, R20 | V21},
    {"object_refs", K::kRefList, V21, "@sco,@sro"},
};
constexpr Prop kOpinion[] = {
    {"explanation", K::kString, V21},
    {"authors", K::kStringList, V21},
    {"opinion", K::kEnum, R21, "strongly-disagree,disagree,neutral,agree,strongly-agree"},
    {"object_refs", K::kRefList, R21},
};
constexpr Prop kReport[] = {
    {"labels", K::kStringList, R20},
    {"name", K::kString, RB},
    {"description", K::kString, VB},
    {"report_types", K::kStringList, V21},
    {"published", K::kTimestamp, RB},
    {"object_refs", K::kRefList, RB},
};
constexpr Prop kThreatActor[] = {
    {"labels", K::kStringList, R20},
    {"name", K::kString, RB},
    {"description", K::kString, VB},
    {"threat_actor_types", K::kStringList, V21},
    {"aliases", K::kStringList, VB},
    {"first_seen", K::kTimestamp, V21},
    {"last_seen", K::kTimestamp, V21},
    {"roles", K::kStringList, VB},
    {"goals", K::kStringList, VB},
    {"sophistication", K::kString, VB},
    {"resource_level", K::kString, VB},
    {"primary_motivation", K::kString, VB},
    {"secondary_motivations", K::kStringList, VB},
    {"personal_motivations", K::kStringList, VB},
};
constexpr Prop kTool[] = {
    {"labels", K::kStringList, R20},
    {"name", K::kString, RB},
    {"description", K::kString, VB},
    {"tool_types", K::kStringList, V21},
    {"aliases", K::kStringList, V21},
    {"kill_chain_phases", K::kKillChain, VB},
    {"tool_version", K::kString, VB},
};
constexpr Prop kVulnerability[] = {
    {"name", K::kString, RB},
    {"description", K::kString, VB},
};
constexpr Prop kRelationship[] = {
    {"relationship_type", K::kString, RB},
    {"description", K::kString, VB},
    {"source_ref", K::kRef, R20, "@sdo"},
    {"target_ref", K::kRef, R20, "@sdo"},
    {"source_ref", K::kRef, R21, "@sdo,@sco"},
    {"target_ref", K::kRef, R21, "@sdo,@sco"},
    {"start_time", K::kTimestamp, V21},
    {"stop_time", K::kTimestamp, V21},
};
constexpr Prop kSighting[] = {
    {"description", K::kString, V21},
    {"first_seen", K::kTimestamp, VB},
    {"last_seen", K::kTimestamp, VB},
    {"count", K::kInt, VB, "", 0, 999999999},
    {"sighting_of_ref", K::kRef, RB, "@sdo"},
    {"observed_data_refs", K::kRefList, VB, "observed-data"},
    {"where_sighted_refs", K::kRefList, V20, "identity"},
    {"where_sighted_refs", K::kRefList, V21, "identity,location"},
    {"summary", K::kBool, VB},
};
constexpr Prop kLanguageContent[] = {
    {"object_ref", K::kRef, R21},
    {"object_modified", K::kTimestamp, V21},
    {"contents", K::kDict, R21},
};
constexpr Prop kExtensionDefinition[] = {
    {"created_by_ref", K::kRef, R21, "identity"},
    {"name", K::kString, R21},
    {"description", K::kString, V21},
    {"schema", K::kString, R21},
    {"version", K::kString, R21},
    {"extension_types", K::kEnumList, R21,
     "new-sdo,new-sco,new-sro,property-extension,toplevel-property-extension"},
    {"extension_properties", K::kStringList, V21},
};

// SCOs (STIX 2.1).
constexpr Prop kArtifact[] = {
    {"mime_type", K::kString, V21},        {"payload_bin", K::kString, V21},
    {"url", K::kString, V21},              {"hashes", K::kHashes, V21},
    {"encryption_algorithm", K::kString, V21}, {"decryption_key", K::kString, V21},
};
constexpr Prop kAutonomousSystem[] = {
    {"number", K::kInt, R21, "", 0, kMaxI},
    {"name", K::kString, V21},
    {"rir", K::kString, V21},
};
constexpr Prop kDirectory[] = {
    {"path", K::kString, R21},        {"path_enc", K::kString, V21},
    {"ctime", K::kTimestamp, V21},    {"mtime", K::kTimestamp, V21},
    {"atime", K::kTimestamp, V21},    {"contains_refs", K::kRefList, V21, "file,directory"},
};
constexpr Prop kDomainName[] = {
    {"value", K::kString, R21},
    {"resolves_to_refs", K::kRefList, V21, "ipv4-addr,ipv6-addr,domain-name"},
};
constexpr Prop kEmailAddr[] = {
    {"value", K::kString, R21},
    {"display_name", K::kString, V21},
    {"belongs_to_ref", K::kRef, V21, "user-account"},
};
constexpr Prop kEmailMessage[] = {
    {"is_multipart", K::kBool, R21},
    {"date", K::kTimestamp, V21},
    {"content_type", K::kString, V21},
    {"from_ref", K::kRef, V21, "email-addr"},
    {"sender_ref", K::kRef, V21, "email-addr"},
    {"to_refs", K::kRefList, V21, "email-addr"},
    {"cc_refs", K::kRefList, V21, "email-addr"},
    {"bcc_refs", K::kRefList, V21, "email-addr"},
    {"message_id", K::kString, V21},
    {"subject", K::kString, V21},
    {"received_lines", K::kStringList, V21},
    {"additional_header_fields", K::kDict, V21},
    {"body", K::kString, V21},
    {"body_multipart", K::kMimeParts, V21},
    {"raw_email_ref", K::kRef, V21, "artifact"},
};
constexpr Prop kFile[] = {
    {"hashes", K::kHashes, V21},
    {"size", K::kInt, V21, "", 0, kMaxI},
    {"name", K::kString, V21},
    {"name_enc", K::kString, V21},
    {"magic_number_hex", K::kString, V21},
    {"mime_type", K::kString, V21},
    {"ctime", K::kTimestamp, V21},
    {"mtime", K::kTimestamp, V21},
    {"atime", K::kTimestamp, V21},
    {"parent_directory_ref", K::kRef, V21, "directory"},
    {"contains_refs", K::kRefList, V21, "@sco"},
    {"content_ref", K::kRef, V21, "artifact"},
};
constexpr Prop kIpAddr[] = {
    {"value", K::kString, R21},
    {"resolves_to_refs", K::kRefList, V21, "mac-addr"},
    {"belongs_to_refs", K::kRefList, V21, "autonomous-system"},
};
constexpr Prop kValueOnly[] = {
    {"value", K::kString, R21},
};
constexpr Prop kMutex[] = {
    {"name", K::kString, R21},
};
constexpr Prop kNetworkTraffic[] = {
    {"start", K::kTimestamp, V21},
    {"end", K::kTimestamp, V21},
    {"is_active", K::kBool, V21},
    {"src_ref", K::kRef, V21, "ipv4-addr,ipv6-addr,mac-addr,domain-name"},
    {"dst_ref", K::kRef, V21, "ipv4-addr,ipv6-addr,mac-addr,domain-name"},
    {"src_port", K::kInt, V21, "", 0, 65535},
    {"dst_port", K::kInt, V21, "", 0, 65535},
    {"protocols", K::kStringList, R21},
    {"src_byte_count", K::kInt, V21, "", 0, kMaxI},
    {"dst_byte_count", K::kInt, V21, "", 0, kMaxI},
    {"src_packets", K::kInt, V21, "", 0, kMaxI},
    {"dst_packets", K::kInt, V21, "", 0, kMaxI},
    {"ipfix", K::kDict, V21},
    {"src_payload_ref", K::kRef, V21, "artifact"},
    {"dst_payload_ref", K::kRef, V21, "artifact"},
    {"encapsulates_refs", K::kRefList, V21, "network-traffic"},
    {"encapsulated_by_ref", K::kRef, V21, "network-traffic"},
};
constexpr Prop kProcess[] = {
    {"is_hidden", K::kBool, V21},
    {"pid", K::kInt, V21},
    {"created_time", K::kTimestamp, V21},
    {"cwd", K::kString, V21},
    {"command_line", K::kString, V21},
    {"environment_variables", K::kDict, V21},
    {"opened_connection_refs", K::kRefList, V21, "network-traffic"},
    {"creator_user_ref", K::kRef, V21, "user-account"},
    {"image_ref", K::kRef, V21, "file"},
    {"parent_ref", K::kRef, V21, "process"},
    {"child_refs", K::kRefList, V21, "process"},
};
constexpr Prop kSoftware[] = {
    {"name", K::kString, R21},          {"cpe", K::kString, V21},
    {"swid", K::kString, V21},          {"languages", K::kStringList, V21},
    {"vendor", K::kString, V21},        {"version", K::kString, V21},
};
constexpr Prop kUserAccount[] = {
    {"user_id", K::kString, V21},
    {"credential", K::kString, V21},
    {"account_login", K::kString, V21},
    {"account_type", K::kString, V21},
    {"display_name", K::kString, V21},
    {"is_service_account", K::kBool, V21},
    {"is_privileged", K::kBool, V21},
    {"can_escalate_privs", K::kBool, V21},
    {"is_disabled", K::kBool, V21},
    {"account_created", K::kTimestamp, V21},
    {"account_expires", K::kTimestamp, V21},
    {"credential_last_changed", K::kTimestamp, V21},
    {"account_first_login", K::kTimestamp, V21},
    {"account_last_login", K::kTimestamp, V21},
};
constexpr Prop kWindowsRegistryKey[] = {
    {"key", K::kString, V21},
    {"values", K::kObjList, V21},
    {"modified_time", K::kTimestamp, V21},
    {"creator_user_ref", K::kRef, V21, "user-account"},
    {"number_of_subkeys", K::kInt, V21, "", 0, kMaxI},
};
constexpr Prop kX509Certificate[] = {
    {"is_self_signed", K::kBool, V21},
    {"hashes", K::kHashes, V21},
    {"version", K::kString, V21},
    {"serial_number", K::kString, V21},
    {"signature_algorithm", K::kString, V21},
    {"issuer", K::kString, V21},
    {"validity_not_before", K::kTimestamp, V21},
    {"validity_not_after", K::kTimestamp, V21},
    {"subject", K::kString, V21},
    {"subject_public_key_algorithm", K::kString, V21},
    {"subject_public_key_modulus", K::kString, V21},
    {"subject_public_key_exponent", K::kInt, V21},
    {"x509_v3_extensions", K::kDict, V21},
};

struct TypeSpec {
  std::string_view type;
  Cat cat;
  bool in20;  // a STIX 2.0 type (every listed type is a 2.1 type)
  std::span<const Prop> props;
};

constexpr TypeSpec kTypes[] = {
    {"attack-pattern", Cat::kSdo, true, kAttackPattern},
    {"campaign", Cat::kSdo, true, kCampaign},
    {"course-of-action", Cat::kSdo, true, kCourseOfAction},
    {"grouping", Cat::kSdo, false, kGrouping},
    {"identity", Cat::kSdo, true, kIdentity},
    {"incident", Cat::kSdo, false, kIncident},
    {"indicator", Cat::kSdo, true, kIndicator},
    {"infrastructure", Cat::kSdo, false, kInfrastructure},
    {"intrusion-set", Cat::kSdo, true, kIntrusionSet},
    {"location", Cat::kSdo, false, kLocation},
    {"malware", Cat::kSdo, true, kMalware},
    {"malware-analysis", Cat::kSdo, false, kMalwareAnalysis},
    {"note", Cat::kSdo, false, kNote},
    {"observed-data", Cat::kSdo, true, kObservedData},
    {"opinion", Cat::kSdo, false, kOpinion},
    {"report", Cat::kSdo, true, kReport},
    {"threat-actor", Cat::kSdo, true, kThreatActor},
    {"tool", Cat::kSdo, true, kTool},
    {"vulnerability", Cat::kSdo, true, kVulnerability},
    {"relationship", Cat::kSro, true, kRelationship},
    {"sighting", Cat::kSro, true, kSighting},
    {"marking-definition", Cat::kMarking, true, {}},
    {"language-content", Cat::kLanguage, false, kLanguageContent},
    {"extension-definition", Cat::kExtDef, false, kExtensionDefinition},
    {"bundle", Cat::kBundle, true, {}},
    {"artifact", Cat::kSco, false, kArtifact},
    {"autonomous-system", Cat::kSco, false, kAutonomousSystem},
    {"directory", Cat::kSco, false, kDirectory},
    {"domain-name", Cat::kSco, false, kDomainName},
    {"email-addr", Cat::kSco, false, kEmailAddr},
    {"email-message", Cat::kSco, false, kEmailMessage},
    {"file", Cat::kSco, false, kFile},
    {"ipv4-addr", Cat::kSco, false, kIpAddr},
    {"ipv6-addr", Cat::kSco, false, kIpAddr},
    {"mac-addr", Cat::kSco, false, kValueOnly},
    {"mutex", Cat::kSco, false, kMutex},
    {"network-traffic", Cat::kSco, false, kNetworkTraffic},
    {"process", Cat::kSco, false, kProcess},
    {"software", Cat::kSco, false, kSoftware},
    {"url", Cat::kSco, false, kValueOnly},
    {"user-account", Cat::kSco, false, kUserAccount},
    {"windows-registry-key", Cat::kSco, false, kWindowsRegistryKey},
    {"x509-certificate", Cat::kSco, false, kX509Certificate},
};

const TypeSpec* FindType(std::string_view type) {
  for (const TypeSpec& t : kTypes) {
    if (t.type == type) return &t;
  }
  return nullptr;
}

std::span<const Prop> CommonProps(Cat cat) {
  switch (cat) {
    case Cat::kSdo:
    case Cat::kSro:
    case Cat::kLanguage:
    case Cat::kExtDef:
    case Cat::kCustom:
      return kSdoCommon;
    case Cat::kSco:
      return kScoCommon;
    case Cat::kMarking:
      return kMarkingCommon;
    case Cat::kBundle:
      return {};
  }
  return {};
}

const Prop* FindProp(std::span<const Prop> props, std::string_view name, SpecVersion v) {
  for (const Prop& p : props) {
    if (p.name == name && Defined(p, v)) return &p;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// Identifiers.

// STIX type names: 3-250 characters of a-z, 0-9 and '-', starting with a
// letter, without "--" (which separates type and UUID in identifiers).
bool IsValidType(std::string_view t) {
  if (t.size() < 3 || t.size() > 250) return false;
  if (t[0] < 'a' || t[0] > 'z') return false;
  char prev = 0;
  for (char c : t) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
    if (c == '-' && prev == '-') return false;
    prev = c;
  }
  return true;
}

// Splits "<type>--<uuid>"; false unless both parts are well-formed.
bool ParseId(std::string_view id, std::string_view* type, std::string_view* uuid) {
  size_t sep = id.find("--");
  if (sep == std::string_view::npos) return false;
  *type = id.substr(0, sep);
  *uuid = id.substr(sep + 2);
  return IsValidType(*type) && IsUuid(*uuid);
}

// Custom property names: 3-250 ASCII letters, digits and '_'.
bool IsValidPropertyName(std::string_view n) {
  if (n.size() < 3 || n.size() > 250) return false;
  for (char c : n) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

// Whether `type` (of a referenced object) is among `targets` (see Prop::arg).
// Types cordon does not know (custom objects) count as SDOs or SCOs.
bool TargetMatches(std::string_view targets, std::string_view type) {
  if (targets.empty()) return true;
  const TypeSpec* spec = FindType(type);
  Cat cat = spec ? spec->cat : Cat::kCustom;
  size_t pos = 0;
  while (pos <= targets.size()) {
    size_t comma = targets.find(',', pos);
    if (comma == std::string_view::npos) comma = targets.size();
    std::string_view t = targets.substr(pos, comma - pos);
    if (t == type) return true;
    if (t == "@sdo" && (cat == Cat::kSdo || cat == Cat::kCustom)) return true;
    if (t == "@sco" && (cat == Cat::kSco || cat == Cat::kCustom)) return true;
    if (t == "@sro" && cat == Cat::kSro) return true;
    pos = comma + 1;
  }
  return false;
}

// "identity or location", "SDO or SCO".
std::string DescribeTargets(std::string_view targets) {
  std::string out;
  size_t pos = 0;
  while (pos <= targets.size()) {
    size_t comma = targets.find(',', pos);
    if (comma == std::string_view::npos) comma = targets.size();
    std::string_view t = targets.substr(pos, comma - pos);
    if (!out.empty()) out += " or ";
    if (t == "@sdo") {
      out += "SDO";
    } else if (t == "@sco") {
      out += "SCO";
    } else if (t == "@sro") {
      out += "SRO";
    } else {
      out.append(t);
    }
    pos = comma + 1;
  }
  return out;
}

bool InList(std::string_view list, std::string_view value) {
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    if (list.substr(pos, comma - pos) == value) return true;
    pos = comma + 1;
  }
  return false;
}

// ---------------------------------------------------------------------------
// TLP.

struct TlpId {
  std::string_view id;
  Tlp level;
  std::string_view tlp1_name;  // definition.tlp of the STIX-predefined (TLP 1.0) markings
};

constexpr TlpId kTlpIds[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", Tlp::kClear, ""},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", Tlp::kGreen, ""},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", Tlp::kAmber, ""},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", Tlp::kAmberStrict, ""},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", Tlp::kRed, ""},
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", Tlp::kClear, "white"},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", Tlp::kGreen, "green"},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", Tlp::kAmber, "amber"},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", Tlp::kRed, "red"},
    // OpenCTI's fixed id for TLP:AMBER+STRICT (no STIX-predefined one exists
    // for TLP 1.0), which its exports and connectors carry.
    {"marking-definition--826578e1-40ad-459f-bc73-ede076f81f37", Tlp::kAmberStrict, ""},
};

}  // namespace

std::string_view TlpMarkingId(Tlp tlp) {
  for (const TlpId& t : kTlpIds) {
    if (t.level == tlp && t.tlp1_name.empty()) return t.id;
  }
  return "";
}

namespace {

// Ignoring case: the validator accepts upper-case UUIDs, and an upper-case
// TLP:RED id must not pass for an unknown (unmarked, CLEAR) marking.
const TlpId* FindTlp(std::string_view id) {
  if (id.size() != 56) return nullptr;
  const std::string lower = ToLower(id);
  for (const TlpId& t : kTlpIds) {
    if (t.id == lower) return &t;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------
// The validator.

// A JSON path, rendered only when a problem is reported.
struct Path {
  const Path* parent = nullptr;
  std::string_view key;
  int64_t index = -1;

  Path Key(std::string_view k) const { return Path{this, k, -1}; }
  Path At(size_t i) const { return Path{this, {}, static_cast<int64_t>(i)}; }
  bool IsTop() const { return parent != nullptr && parent->parent == nullptr && index < 0; }

  void AppendTo(std::string& out) const {
    if (parent != nullptr) parent->AppendTo(out);
    if (index >= 0) {
      out += '[';
      out += std::to_string(index);
      out += ']';
    } else if (!key.empty()) {
      if (!out.empty()) out += '.';
      out.append(key);
    }
  }
};

// Top-level timestamps kept for cross-property rules.
struct TimeSlot {
  std::string_view name;
  Timestamp value;
};

// Whether a custom object declares itself an SCO through a STIX 2.1
// extension definition ("extension_type": "new-sco").
bool IsNewSco(dom::object obj) {
  dom::object exts;
  if (obj.at_key("extensions").get_object().get(exts) != simdjson::SUCCESS) return false;
  for (dom::key_value_pair kv : exts) {
    std::string_view t;
    if (kv.value.at_key("extension_type").get_string().get(t) == simdjson::SUCCESS && t == "new-sco") {
      return true;
    }
  }
  return false;
}

class Validator {
 public:
  Validator(Validated& out, DefaultVersion default_version)
      : out_(out), default_version_(default_version) {}

  void Run(dom::element json);

 private:
  void Add(const Path& path, std::string reason) {
    Problem p;
    p.object_id = out_.info.id;
    path.AppendTo(p.property);
    p.reason = std::move(reason);
    out_.problems.push_back(std::move(p));
  }
  void Add(std::string_view property, std::string reason) {
    Path root;
    Add(root.Key(property), std::move(reason));
  }

  void CheckValue(const Prop& prop, dom::element v, const Path& path);
  bool CheckString(dom::element v, const Path& path, std::string_view* out = nullptr);
  bool CheckTimestamp(dom::element v, const Path& path, Timestamp* out);
  bool CheckRef(dom::element v, const Path& path, std::string_view targets, std::string_view* out = nullptr);
  bool CheckList(dom::element v, const Path& path, dom::array* out);
  void CheckStringList(dom::element v, const Path& path);
  void CheckHashes(dom::element v, const Path& path);
  void CheckKillChain(dom::element v, const Path& path);
  void CheckExtRefs(dom::element v, const Path& path);
  void CheckGranular(dom::element v, const Path& path);
  void CheckExtensions(dom::element v, const Path& path);
  void CheckObservables(dom::element v, const Path& path);
  void CheckMimeParts(dom::element v, const Path& path);
  bool RequireKey(dom::object o, const Path& path, const char* key, dom::element* out);
  void CheckUniqueNames(dom::element v, const Path& path);

  const Timestamp* Time(std::string_view name) const {
    for (size_t i = 0; i < n_times_; ++i) {
      if (times_[i].name == name) return &times_[i].value;
    }
    return nullptr;
  }
  void Order(std::string_view first, std::string_view second, bool strict);
  void TypeRules(dom::object obj);
  void MarkingRules(dom::object obj);

  Validated& out_;
  DefaultVersion default_version_;
  SpecVersion ver_ = SpecVersion::k21;
  const TypeSpec* spec_ = nullptr;
  Cat cat_ = Cat::kCustom;
  std::string_view type_;
  TimeSlot times_[16];
  size_t n_times_ = 0;
  int specific_props_ = 0;  // properties of the type's own table present
};

bool Validator::CheckString(dom::element v, const Path& path, std::string_view* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    Add(path, "must be a string");
    return false;
  }
  if (out) *out = s;
  return true;
}

bool Validator::CheckTimestamp(dom::element v, const Path& path, Timestamp* out) {
  std::string_view s;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    Add(path, "must be an RFC 3339 UTC timestamp ending in Z (a string)");
    return false;
  }
  Result<Timestamp> t = ParseTimestamp(s);
  if (!t.ok()) {
    Add(path, "must be an RFC 3339 UTC timestamp ending in Z, got \"" + std::string(s) + "\"");
    return false;
  }
  *out = *t;
  return true;
}

bool Validator::CheckRef(dom::element v, const Path& path, std::string_view targets,
                         std::string_view* out) {
  std::string_view s, type, uuid;
  if (v.get_string().get(s) != simdjson::SUCCESS) {
    Add(path, "must be an identifier (<type>--<UUID>) string");
    return false;
  }
  if (!ParseId(s, &type, &uuid)) {
    Add(path, "must be an identifier (<type>--<UUID>), got \"" + std::string(s) + "\"");
    return false;
  }
  if (!TargetMatches(targets, type)) {
    Add(path, "must reference a " + DescribeTargets(targets) + ", got " + std::string(s));
    return false;
  }
  if (out) *out = s;
  return true;
}

bool Validator::CheckList(dom::element v, const Path& path, dom::array* out) {
  if (v.get_array().get(*out) != simdjson::SUCCESS) {
    Add(path, "must be a list");
    return false;
  }
  if (out->begin() == out->end()) {
    Add(path, "must not be an empty list");
    return false;
  }
  return true;
}

void Validator::CheckStringList(dom::element v, const Path& path) {
  dom::array a;
  if (!CheckList(v, path, &a)) return;
  size_t i = 0;
  for (dom::element e : a) {
    if (!e.is_string()) Add(path.At(i), "must be a string");
    ++i;
  }
}

void Validator::CheckHashes(dom::element v, const Path& path) {
  dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) {
    Add(path, "must be a dictionary of hash values");
    return;
  }
  if (o.begin() == o.end()) {
    Add(path, "must not be an empty dictionary");
    return;
  }
  for (dom::key_value_pair kv : o) {
    Path p = path.Key(kv.key);
    if (kv.key.empty() || kv.key.size() > 250) Add(p, "hash names must be 1-250 characters");
    if (!kv.value.is_string()) Add(p, "must be a string");
  }
}

bool Validator::RequireKey(dom::object o, const Path& path, const char* key, dom::element* out) {
  if (o.at_key(key).get(*out) != simdjson::SUCCESS) {
    Add(path.Key(key), "required property missing");
    return false;
  }
  return true;
}

void Validator::CheckKillChain(dom::element v, const Path& path) {
  dom::array a;
  if (!CheckList(v, path, &a)) return;
  size_t i = 0;
  for (dom::element e : a) {
    Path p = path.At(i++);
    dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      Add(p, "must be a kill-chain-phase object");
      continue;
    }
    dom::element f;
    if (RequireKey(o, p, "kill_chain_name", &f)) CheckString(f, p.Key("kill_chain_name"));
    if (RequireKey(o, p, "phase_name", &f)) CheckString(f, p.Key("phase_name"));
  }
}

void Validator::CheckExtRefs(dom::element v, const Path& path) {
  dom::array a;
  if (!CheckList(v, path, &a)) return;
  size_t i = 0;
  for (dom::element e : a) {
    Path p = path.At(i++);
    dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      Add(p, "must be an external-reference object");
      continue;
    }
    dom::element f;
    if (RequireKey(o, p, "source_name", &f)) CheckString(f, p.Key("source_name"));
    bool has_detail = false;
    for (const char* key : {"description", "url", "external_id"}) {
      if (o.at_key(key).get(f) == simdjson::SUCCESS) {
        has_detail = true;
        CheckString(f, p.Key(key));
      }
    }
    if (o.at_key("hashes").get(f) == simdjson::SUCCESS) CheckHashes(f, p.Key("hashes"));
    // STIX 2.1 section 2.5: "In addition to the source_name property, at
    // least one of the description, url, or external_id properties MUST be
    // present." (STIX 2.0 states the same as a SHOULD-level expectation only.)
    if (!has_detail && ver_ == SpecVersion::k21) {
      Add(p, "needs at least one of description, url or external_id besides source_name");
    }
  }
}

void Validator::CheckGranular(dom::element v, const Path& path) {
  dom::array a;
  if (!CheckList(v, path, &a)) return;
  size_t i = 0;
  for (dom::element e : a) {
    Path p = path.At(i++);
    dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      Add(p, "must be a granular-marking object");
      continue;
    }
    dom::element f;
    if (RequireKey(o, p, "selectors", &f)) CheckStringList(f, p.Key("selectors"));
    bool has_ref = o.at_key("marking_ref").get(f) == simdjson::SUCCESS;
    if (has_ref) CheckRef(f, p.Key("marking_ref"), "marking-definition");
    bool has_lang = false;
    if (ver_ == SpecVersion::k21) {
      has_lang = o.at_key("lang").get(f) == simdjson::SUCCESS;
      if (has_lang) CheckString(f, p.Key("lang"));
    }
    if (has_ref && has_lang) {
      Add(p, "must have marking_ref or lang, not both");
    } else if (!has_ref && !has_lang) {
      Add(p.Key("marking_ref"),
          ver_ == SpecVersion::k21 ? "required property missing (marking_ref or lang)"
                                   : "required property missing");
    }
  }
}

void Validator::CheckExtensions(dom::element v, const Path& path) {
  dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) {
    Add(path, "must be a dictionary");
    return;
  }
  if (o.begin() == o.end()) {
    Add(path, "must not be an empty dictionary");
    return;
  }
  for (dom::key_value_pair kv : o) {
    Path p = path.Key(kv.key);
    dom::object ext;
    if (kv.value.get_object().get(ext) != simdjson::SUCCESS) {
      Add(p, "must be an extension object");
      continue;
    }
    if (kv.key.starts_with("extension-definition--")) {
      std::string_view type, uuid;
      if (!ParseId(kv.key, &type, &uuid)) {
        Add(p, "extension-definition key must be extension-definition--<UUID>");
      }
      dom::element f;
      std::string_view et;
      if (RequireKey(ext, p, "extension_type", &f) && CheckString(f, p.Key("extension_type"), &et) &&
          !InList("new-sdo,new-sco,new-sro,property-extension,toplevel-property-extension", et)) {
        Add(p.Key("extension_type"), "must be one of new-sdo, new-sco, new-sro, property-extension, "
                                     "toplevel-property-extension, got \"" + std::string(et) + "\"");
      }
    }
  }
}

void Validator::CheckObservables(dom::element v, const Path& path) {
  dom::object o;
  if (v.get_object().get(o) != simdjson::SUCCESS) {
    Add(path, "must be a dictionary of cyber observable objects");
    return;
  }
  if (o.begin() == o.end()) {
    Add(path, "must not be an empty dictionary");
    return;
  }
  for (dom::key_value_pair kv : o) {
    Path p = path.Key(kv.key);
    dom::object obs;
    if (kv.value.get_object().get(obs) != simdjson::SUCCESS) {
      Add(p, "must be a cyber observable object");
      continue;
    }
    dom::element f;
    std::string_view t;
    if (RequireKey(obs, p, "type", &f) && CheckString(f, p.Key("type"), &t) && !IsValidType(t)) {
      Add(p.Key("type"), "must be 3-250 characters of a-z, 0-9 and '-'");
    }
  }
}

void Validator::CheckMimeParts(dom::element v, const Path& path) {
  dom::array a;
  if (!CheckList(v, path, &a)) return;
  size_t i = 0;
  for (dom::element e : a) {
    Path p = path.At(i++);
    dom::object o;
    if (e.get_object().get(o) != simdjson::SUCCESS) {
      Add(p, "must be a mime-part-type object");
      continue;
    }
    dom::element f;
    bool body = o.at_key("body").get(f) == simdjson::SUCCESS;
    if (body) CheckString(f, p.Key("body"));
    bool raw = o.at_key("body_raw_ref").get(f) == simdjson::SUCCESS;
    if (raw) CheckRef(f, p.Key("body_raw_ref"), "artifact,file");
    if (body == raw) Add(p, "must have exactly one of body or body_raw_ref");
  }
}

void Validator::CheckValue(const Prop& prop, dom::element v, const Path& path) {
  switch (prop.kind) {
    case K::kString:
      CheckString(v, path);
      return;
    case K::kStringList:
      CheckStringList(v, path);
      return;
    case K::kTimestamp: {
      Timestamp t;
      if (CheckTimestamp(v, path, &t) && path.IsTop() && n_times_ < std::size(times_)) {
        times_[n_times_++] = TimeSlot{prop.name, t};
      }
      return;
    }
    case K::kBool:
      if (!v.is_bool()) Add(path, "must be a boolean");
      return;
    case K::kInt: {
      int64_t i;
      if (v.get_int64().get(i) != simdjson::SUCCESS) {
        Add(path, v.is_uint64() ? "integer out of range" : "must be an integer");
        return;
      }
      if (prop.min < prop.max && (i < prop.min || i > prop.max)) {
        Add(path, prop.max == kMaxI ? "must be an integer >= " + std::to_string(prop.min)
                                    : "must be an integer between " + std::to_string(prop.min) +
                                          " and " + std::to_string(prop.max) + ", got " +
                                          std::to_string(i));
      }
      return;
    }
    case K::kNumber: {
      double d;
      if (!v.is_number() || v.get_double().get(d) != simdjson::SUCCESS) {
        Add(path, "must be a number");
        return;
      }
      if (prop.min < prop.max && (d < static_cast<double>(prop.min) ||
                                  (prop.max != kMaxI && d > static_cast<double>(prop.max)))) {
        Add(path, prop.max == kMaxI ? "must be a number >= " + std::to_string(prop.min)
                                    : "must be a number between " + std::to_string(prop.min) +
                                          " and " + std::to_string(prop.max));
      }
      return;
    }
    case K::kRef:
      CheckRef(v, path, prop.arg);
      return;
    case K::kRefList: {
      dom::array a;
      if (!CheckList(v, path, &a)) return;
      size_t i = 0;
      for (dom::element e : a) CheckRef(e, path.At(i++), prop.arg);
      return;
    }
    case K::kDict:
      if (!v.is_object()) Add(path, "must be a dictionary");
      return;
    case K::kObjList: {
      dom::array a;
      if (!CheckList(v, path, &a)) return;
      size_t i = 0;
      for (dom::element e : a) {
        if (!e.is_object()) Add(path.At(i), "must be an object");
        ++i;
      }
      return;
    }
    case K::kHashes:
      CheckHashes(v, path);
      return;
    case K::kKillChain:
      CheckKillChain(v, path);
      return;
    case K::kExtRefs:
      CheckExtRefs(v, path);
      return;
    case K::kGranular:
      CheckGranular(v, path);
      return;
    case K::kExtensions:
      CheckExtensions(v, path);
      return;
    case K::kEnum: {
      std::string_view s;
      if (CheckString(v, path, &s) && !InList(prop.arg, s)) {
        Add(path, "must be one of " + std::string(prop.arg) + ", got \"" + std::string(s) + "\"");
      }
      return;
    }
    case K::kEnumList: {
      dom::array a;
      if (!CheckList(v, path, &a)) return;
      size_t i = 0;
      for (dom::element e : a) {
        Path p = path.At(i++);
        std::string_view s;
        if (CheckString(e, p, &s) && !InList(prop.arg, s)) {
          Add(p, "must be one of " + std::string(prop.arg) + ", got \"" + std::string(s) + "\"");
        }
      }
      return;
    }
    case K::kObservables:
      CheckObservables(v, path);
      return;
    case K::kMimeParts:
      CheckMimeParts(v, path);
      return;
  }
}

void Validator::Order(std::string_view first, std::string_view second, bool strict) {
  const Timestamp* a = Time(first);
  const Timestamp* b = Time(second);
  if (a == nullptr || b == nullptr) return;
  if (strict ? !(*b > *a) : *b < *a) {
    Add(second, std::string("must be ") + (strict ? "later than " : "later than or equal to ") +
                    std::string(first));
  }
}

void Validator::MarkingRules(dom::object obj) {
  dom::element f;
  bool has_ext = obj.at_key("extensions").get(f) == simdjson::SUCCESS;
  std::string_view dtype;
  bool has_type = obj.at_key("definition_type").get(f) == simdjson::SUCCESS;
  // Type errors are reported by the table pass.
  if (has_type && f.get_string().get(dtype) != simdjson::SUCCESS) dtype = {};
  dom::object def;
  bool has_def = obj.at_key("definition").get(f) == simdjson::SUCCESS;
  if (has_def && f.get_object().get(def) != simdjson::SUCCESS) has_def = false;
  if (ver_ == SpecVersion::k21 && !has_ext) {
    // Without extensions (the TLP 2.0 style), a 2.1 marking needs the pair.
    if (!has_type) Add("definition_type", "required property missing (no extensions given)");
    if (!has_def && obj.at_key("definition").error() != simdjson::SUCCESS) {
      Add("definition", "required property missing (no extensions given)");
    }
  }
  if (has_type != (obj.at_key("definition").error() == simdjson::SUCCESS) && has_ext) {
    Add(has_type ? "definition" : "definition_type",
        "definition and definition_type must be given together");
  }
  Path root;
  Path dpath = root.Key("definition");
  if (has_def && dtype == "statement") {
    if (RequireKey(def, dpath, "statement", &f)) CheckString(f, dpath.Key("statement"));
  } else if (has_def && dtype == "tlp") {
    std::string_view level;
    if (RequireKey(def, dpath, "tlp", &f) && CheckString(f, dpath.Key("tlp"), &level) &&
        !InList("white,green,amber,red", level)) {
      Add(dpath.Key("tlp"), "must be one of white, green, amber, red, got \"" + std::string(level) + "\"");
    }
  }
  // The predefined TLP 1.0 markings have fixed content.
  if (const TlpId* t = FindTlp(out_.info.id); t != nullptr && !t->tlp1_name.empty()) {
    std::string_view level;
    if (dtype != "tlp" || !has_def || def.at_key("tlp").get_string().get(level) ||
        level != t->tlp1_name) {
      Add("definition", "the predefined TLP marking " + out_.info.id + " must be tlp \"" +
                            std::string(t->tlp1_name) + "\"");
    }
  }
}

void Validator::TypeRules(dom::object obj) {
  dom::element f;
  auto has = [&](const char* key) { return obj.at_key(key).get(f) == simdjson::SUCCESS; };
  bool v21 = ver_ == SpecVersion::k21;
  const std::string_view t = type_;

  // Pairs of timestamps whose order the specification fixes.
  if (cat_ != Cat::kMarking) Order("created", "modified", false);
  Order("first_seen", "last_seen", false);

  if (t == "indicator") {
    Order("valid_from", "valid_until", true);
    std::string_view pattern, pattern_type;
    if (obj.at_key("pattern").get_string().get(pattern) == simdjson::SUCCESS) {
      bool stix = !v21;
      if (v21 && obj.at_key("pattern_type").get_string().get(pattern_type) == simdjson::SUCCESS) {
        stix = pattern_type == "stix";
      }
      if (stix) {
        Status s = pattern::Validate(
            pattern, ver_ == SpecVersion::k20 ? pattern::Version::k20 : pattern::Version::k21);
        if (!s.ok()) Add("pattern", "invalid STIX pattern: " + std::string(s.message()));
      }
    }
  } else if (t == "observed-data") {
    Order("first_observed", "last_observed", false);
    if (v21) {
      bool objects = has("objects"), refs = has("object_refs");
      if (objects && refs) Add("objects", "must not be given together with object_refs");
      if (!objects && !refs) Add("object_refs", "required property missing (object_refs or objects)");
    }
  } else if (t == "relationship") {
    Order("start_time", "stop_time", true);
  } else if (t == "location") {
    bool lat = has("latitude"), lon = has("longitude");
    if (lat != lon) Add(lat ? "longitude" : "latitude", "latitude and longitude must be given together");
    if (has("precision") && !lat) Add("precision", "requires latitude and longitude");
    if (!has("region") && !has("country") && !(lat && lon)) {
      Add("region", "required property missing (region, country, or latitude and longitude)");
    }
  } else if (t == "malware" && v21) {
    bool is_family = false;
    if (obj.at_key("is_family").get_bool().get(is_family) == simdjson::SUCCESS && is_family &&
        !has("name")) {
      Add("name", "required property missing (is_family is true)");
    }
  } else if (t == "malware-analysis") {
    if (!has("result") && !has("analysis_sco_refs")) {
      Add("result", "required property missing (result or analysis_sco_refs)");
    }
  } else if (t == "marking-definition") {
    MarkingRules(obj);
  } else if (t == "artifact") {
    bool payload = has("payload_bin"), url = has("url");
    if (payload && url) Add("url", "must not be given together with payload_bin");
    if (url && !has("hashes")) Add("hashes", "required property missing (url is given)");
  } else if (t == "file") {
    if (!has("hashes") && !has("name")) Add("name", "required property missing (hashes or name)");
  } else if (t == "network-traffic") {
    if (!has("src_ref") && !has("dst_ref")) Add("src_ref", "required property missing (src_ref or dst_ref)");
    Order("start", "end", false);
    bool active = false;
    if (obj.at_key("is_active").get_bool().get(active) == simdjson::SUCCESS && active && has("end")) {
      Add("end", "must not be given when is_active is true");
    }
  } else if (t == "email-message") {
    bool multi = false;
    if (obj.at_key("is_multipart").get_bool().get(multi) == simdjson::SUCCESS) {
      if (multi && has("body")) Add("body", "must not be given when is_multipart is true");
      if (!multi && has("body_multipart")) {
        Add("body_multipart", "must not be given when is_multipart is false");
      }
    }
  } else if (t == "process" || t == "user-account" || t == "windows-registry-key" ||
             t == "x509-certificate") {
    if (specific_props_ == 0 && !has("extensions")) {
      Add("", "a " + std::string(t) + " must have at least one property besides the common ones");
    }
  }
}

// Two members of one name in one JSON object (RFC 8259 allows it, I-JSON
// does not): parsers disagree on which one counts (simdjson and this node
// read the first, Python's json and most others the last), so one object could
// be matched as one indicator here and shown as another by a partner's tool.
// Checked at every depth; each repeated name reported once per object.
void Validator::CheckUniqueNames(dom::element v, const Path& path) {
  dom::array array;
  if (v.get_array().get(array) == simdjson::SUCCESS) {
    size_t i = 0;
    for (dom::element x : array) {
      if (x.is_object() || x.is_array()) CheckUniqueNames(x, path.At(i));
      ++i;
    }
    return;
  }
  dom::object object;
  if (v.get_object().get(object) != simdjson::SUCCESS) return;
  absl::InlinedVector<std::string_view, 32> names;
  for (auto [key, value] : object) names.push_back(key);
  std::sort(names.begin(), names.end());
  for (size_t i = 1; i < names.size(); ++i) {
    if (names[i] == names[i - 1] && (i < 2 || names[i - 2] != names[i])) {  // once per name
      Add(path.Key(names[i]), "appears more than once in the same JSON object");
    }
  }
  for (auto [key, value] : object) {
    if (value.is_object() || value.is_array()) CheckUniqueNames(value, path.Key(key));
  }
}

void Validator::Run(dom::element json) {
  dom::object obj;
  if (json.get_object().get(obj) != simdjson::SUCCESS) {
    Add(Path{}, "must be a JSON object");
    return;
  }
  ObjectInfo& info = out_.info;

  // id first, so that every problem names the object.
  dom::element id_el;
  bool has_id = obj.at_key("id").get(id_el) == simdjson::SUCCESS;
  std::string_view id;
  if (has_id && id_el.get_string().get(id) == simdjson::SUCCESS) info.id = std::string(id);
  CheckUniqueNames(json, Path{});

  dom::element type_el;
  if (obj.at_key("type").get(type_el) != simdjson::SUCCESS) {
    Add("type", "required property missing");
  } else if (type_el.get_string().get(type_) != simdjson::SUCCESS) {
    Add("type", "must be a string");
  } else if (!IsValidType(type_)) {
    Add("type", "must be 3-250 characters of a-z, 0-9 and '-', starting with a letter, got \"" +
                    std::string(type_) + "\"");
  }
  info.type = std::string(type_);
  spec_ = FindType(type_);
  cat_ = spec_ ? spec_->cat : Cat::kCustom;
  if (cat_ == Cat::kCustom && IsNewSco(obj)) cat_ = Cat::kSco;  // a 2.1 custom SCO
  if (cat_ == Cat::kBundle) {
    Add("type", "a bundle is not a STIX object (split it first)");
    return;
  }

  // The version: spec_version, else per DefaultVersion.
  dom::element sv_el;
  bool has_sv = obj.at_key("spec_version").get(sv_el) == simdjson::SUCCESS;
  if (has_sv) {
    std::string_view sv;
    if (sv_el.get_string().get(sv) != simdjson::SUCCESS) {
      Add("spec_version", "must be the string \"2.1\"");
      ver_ = SpecVersion::k21;
    } else if (sv == "2.1") {
      ver_ = SpecVersion::k21;
    } else if (sv == "2.0") {
      // Not a 2.0 property, but producers that write it mean 2.0.
      ver_ = SpecVersion::k20;
    } else {
      Add("spec_version", "must be \"2.1\", got \"" + std::string(sv) + "\"");
      ver_ = SpecVersion::k21;
    }
  } else {
    // kInfer: a 2.1 SCO may omit spec_version; everything else without it is
    // 2.0. k20: everything without spec_version is 2.0.
    ver_ = cat_ == Cat::kSco && default_version_ == DefaultVersion::kInfer ? SpecVersion::k21
                                                                          : SpecVersion::k20;
  }
  info.spec_version = ver_;
  if (ver_ == SpecVersion::k20 && spec_ != nullptr && !spec_->in20) {
    Add("spec_version", "required property missing (" + std::string(type_) +
                            " is a STIX 2.1 type; without spec_version the object is read as STIX 2.0)");
    // Check it as 2.1 from here on, which is what it must be.
    ver_ = SpecVersion::k21;
  }

  // id.
  if (!has_id) {
    Add("id", "required property missing");
  } else if (info.id.empty() && !id_el.is_string()) {
    Add("id", "must be a string");
  } else {
    std::string_view type, uuid;
    if (!ParseId(id, &type, &uuid)) {
      Add("id", "must be <type>--<UUID>, got \"" + std::string(id) + "\"");
    } else if (type != type_ && !type_.empty()) {
      Add("id", "must start with the object's type \"" + std::string(type_) + "--\"");
    } else if (ver_ == SpecVersion::k20 && UuidVersion(uuid) != 4) {
      Add("id", "must hold a version 4 UUID in STIX 2.0");
    }
  }

  std::span<const Prop> own = spec_ ? spec_->props : std::span<const Prop>{};
  std::span<const Prop> common = CommonProps(cat_);

  Path root;
  for (dom::key_value_pair kv : obj) {
    std::string_view key = kv.key;
    if (key == "type" || key == "id" || key == "spec_version") continue;
    const Prop* p = FindProp(own, key, ver_);
    if (p != nullptr) {
      ++specific_props_;
    } else {
      p = FindProp(common, key, ver_);
    }
    if (p == nullptr) {
      // A custom (or toplevel-extension) property: kept, name checked.
      if (!IsValidPropertyName(key)) {
        Add(root.Key(key), "custom property names must be 3-250 characters of a-z, A-Z, 0-9 and '_'");
      }
      continue;
    }
    Path path = root.Key(key);
    CheckValue(*p, kv.value, path);

    // ObjectInfo columns.
    if (key == "created" || key == "modified") {
      // Versions are identities, kept as int64 nanoseconds: a saturated one
      // would make distinct versions equal (bounds such as valid_until may
      // saturate; see base/time.h).
      const Timestamp* t = Time(key);
      if (t && IsSaturated(*t)) {
        Add(path, "must lie between 1677-09-21 and 2262-04-11 (an object's version is kept in nanoseconds)");
      } else if (t && key == "created") {
        info.created = *t;
      } else if (t && cat_ != Cat::kMarking) {
        info.modified = *t;
      }
    } else if (key == "revoked") {
      bool b = false;
      if (kv.value.get_bool().get(b) == simdjson::SUCCESS) info.revoked = b;
    } else if (key == "confidence") {
      int64_t c;
      if (kv.value.get_int64().get(c) == simdjson::SUCCESS && c >= 0 && c <= 100) {
        info.confidence = static_cast<int>(c);
      }
    } else if (key == "object_marking_refs") {
      dom::array a;
      if (kv.value.get_array().get(a) == simdjson::SUCCESS) {
        for (dom::element e : a) {
          std::string_view s;
          if (e.get_string().get(s) != simdjson::SUCCESS) continue;
          info.object_marking_refs.emplace_back(s);
          if (const TlpId* t = FindTlp(s); t != nullptr && t->level > info.tlp) info.tlp = t->level;
        }
      }
    }
  }

  // Required properties.
  for (std::span<const Prop> props : {own, common}) {
    for (const Prop& p : props) {
      if (!Required(p, ver_)) continue;
      if (obj.at_key(p.name).error() != simdjson::SUCCESS) {
        Add(root.Key(p.name), "required property missing");
      }
    }
  }
  TypeRules(obj);
}

}  // namespace

Tlp TlpOfMarking(std::string_view marking_definition_id) {
  const TlpId* t = FindTlp(marking_definition_id);
  return t ? t->level : Tlp::kNone;
}

Validated ValidateObject(std::string_view json, DefaultVersion default_version) {
  thread_local dom::parser parser;
  thread_local std::string buffer;
  Validated out;
  buffer.assign(json.data(), json.size());
  buffer.resize(json.size() + simdjson::SIMDJSON_PADDING);
  dom::element root;
  simdjson::error_code err = parser.parse(buffer.data(), json.size(), false).get(root);
  if (err != simdjson::SUCCESS) {
    out.problems.push_back(
        Problem{"", "", std::string("not valid JSON: ") + simdjson::error_message(err)});
    return out;
  }
  Validator v(out, default_version);
  v.Run(root);
  return out;
}

}  // namespace cordon::stix
