// Status and Result: the error values that cross every module border.
//
// cordon code does not throw; a function that can fail returns Status or
// Result<T>. These are Abseil's types, so callers get the canonical codes
// (InvalidArgument, NotFound, PermissionDenied, ...), which taxii/server maps
// to HTTP statuses in one place.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cordon {

using Status = absl::Status;
template <typename T>
using Result = absl::StatusOr<T>;

}  // namespace cordon

#define CORDON_CONCAT_INNER_(a, b) a##b
#define CORDON_CONCAT_(a, b) CORDON_CONCAT_INNER_(a, b)

// Returns from the enclosing function if `expr` (a Status) is not OK.
#define CORDON_RETURN_IF_ERROR(expr)             \
  do {                                           \
    ::cordon::Status cordon_status_ = (expr);    \
    if (!cordon_status_.ok()) return cordon_status_; \
  } while (0)

// `lhs = value of expr` (a Result<T>), or returns its status from the enclosing
// function. `lhs` may be a declaration: CORDON_ASSIGN_OR_RETURN(auto x, F());
#define CORDON_ASSIGN_OR_RETURN(lhs, expr) \
  CORDON_ASSIGN_OR_RETURN_IMPL_(CORDON_CONCAT_(cordon_result_, __LINE__), lhs, expr)
#define CORDON_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
