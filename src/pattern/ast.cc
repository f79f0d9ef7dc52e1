#include "pattern/ast.h"

#include <cstdio>

namespace cordon::pattern {
namespace {

void AppendQuoted(std::string* out, std::string_view s) {
  out->push_back('\'');
  for (char c : s) {
    if (c == '\'' || c == '\\') out->push_back('\\');
    out->push_back(c);
  }
  out->push_back('\'');
}

void AppendHex(std::string* out, std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  out->append("h'");
  for (char c : bytes) {
    unsigned char u = static_cast<unsigned char>(c);
    out->push_back(kHex[u >> 4]);
    out->push_back(kHex[u & 15]);
  }
  out->push_back('\'');
}

void AppendNumber(std::string* out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  out->append(buf);
}

void AppendConstant(std::string* out, const Constant& c) {
  switch (c.type) {
    case Constant::Type::kInt: out->append(std::to_string(c.int_value)); break;
    case Constant::Type::kFloat: AppendNumber(out, c.float_value); break;
    case Constant::Type::kString: AppendQuoted(out, c.bytes); break;
    case Constant::Type::kBool: out->append(c.int_value ? "true" : "false"); break;
    case Constant::Type::kHex:
    case Constant::Type::kBinary: AppendHex(out, c.bytes); break;
    case Constant::Type::kTimestamp:
      out->append("t'").append(c.bytes).push_back('\'');
      break;
  }
}

void AppendPath(std::string* out, const ObjectPath& p) {
  out->append(p.object_type).push_back(':');
  bool first = true;
  for (const PathStep& s : p.steps) {
    switch (s.kind) {
      case PathStep::Kind::kKey: {
        if (!first) out->push_back('.');
        bool plain = !s.key.empty();
        for (char c : s.key) {
          plain &= (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                   (c >= '0' && c <= '9') || c == '_';
        }
        if (plain) {
          out->append(s.key);
        } else {
          AppendQuoted(out, s.key);
        }
        break;
      }
      case PathStep::Kind::kIndex:
        out->append("[").append(std::to_string(s.index)).append("]");
        break;
      case PathStep::Kind::kAnyIndex: out->append("[*]"); break;
    }
    first = false;
  }
}

void AppendComparison(std::string* out, const Pattern& p, uint32_t i) {
  const ComparisonNode& n = p.comparisons[i];
  if (n.kind != ComparisonNode::Kind::kTest) {
    out->push_back('(');
    for (size_t k = 0; k < n.children.size(); ++k) {
      if (k) out->append(n.kind == ComparisonNode::Kind::kAnd ? " AND " : " OR ");
      AppendComparison(out, p, n.children[k]);
    }
    out->push_back(')');
    return;
  }
  const Comparison& t = n.test;
  if (t.op == CompareOp::kExists) {
    out->append("EXISTS ");
    AppendPath(out, t.path);
    return;
  }
  AppendPath(out, t.path);
  out->push_back(' ');
  if (t.negated) out->append("NOT ");
  out->append(CompareOpName(t.op)).push_back(' ');
  if (t.op == CompareOp::kIn) {
    out->push_back('(');
    for (size_t k = 0; k < t.values.size(); ++k) {
      if (k) out->append(", ");
      AppendConstant(out, t.values[k]);
    }
    out->push_back(')');
  } else if (!t.values.empty()) {
    AppendConstant(out, t.values[0]);
  }
}

void AppendObservation(std::string* out, const Pattern& p, uint32_t i) {
  const ObservationNode& n = p.observations[i];
  switch (n.kind) {
    case ObservationNode::Kind::kObservation:
      out->push_back('[');
      AppendComparison(out, p, n.comparison);
      out->push_back(']');
      break;
    case ObservationNode::Kind::kGroup: {
      const ObservationNode& c = p.observations[n.children[0]];
      bool self_parenthesised = c.qualifiers.empty() &&
                                c.kind != ObservationNode::Kind::kObservation &&
                                c.kind != ObservationNode::Kind::kGroup;
      if (!self_parenthesised) out->push_back('(');
      AppendObservation(out, p, n.children[0]);
      if (!self_parenthesised) out->push_back(')');
      break;
    }
    default: {
      const char* op = n.kind == ObservationNode::Kind::kAnd  ? " AND "
                       : n.kind == ObservationNode::Kind::kOr ? " OR "
                                                               : " FOLLOWEDBY ";
      out->push_back('(');
      for (size_t k = 0; k < n.children.size(); ++k) {
        if (k) out->append(op);
        AppendObservation(out, p, n.children[k]);
      }
      out->push_back(')');
    }
  }
  for (const Qualifier& q : n.qualifiers) {
    switch (q.kind) {
      case Qualifier::Kind::kWithin:
        out->append(" WITHIN ");
        AppendNumber(out, q.within_seconds);
        out->append(" SECONDS");
        break;
      case Qualifier::Kind::kRepeats:
        out->append(" REPEATS ").append(std::to_string(q.repeats)).append(" TIMES");
        break;
      case Qualifier::Kind::kStartStop:
        out->append(" START ");
        AppendConstant(out, q.start);
        out->append(" STOP ");
        AppendConstant(out, q.stop);
        break;
    }
  }
}

}  // namespace

const char* CompareOpName(CompareOp op) {
  switch (op) {
    case CompareOp::kEqual: return "=";
    case CompareOp::kNotEqual: return "!=";
    case CompareOp::kLess: return "<";
    case CompareOp::kLessEqual: return "<=";
    case CompareOp::kGreater: return ">";
    case CompareOp::kGreaterEqual: return ">=";
    case CompareOp::kIn: return "IN";
    case CompareOp::kLike: return "LIKE";
    case CompareOp::kMatches: return "MATCHES";
    case CompareOp::kIsSubset: return "ISSUBSET";
    case CompareOp::kIsSuperset: return "ISSUPERSET";
    case CompareOp::kExists: return "EXISTS";
  }
  return "?";
}

std::string DebugString(const Pattern& p) {
  std::string out;
  if (!p.observations.empty()) AppendObservation(&out, p, p.root);
  return out;
}

}  // namespace cordon::pattern
