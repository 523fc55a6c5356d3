// Result<T>: a value or an error message. Errors are values in kitty; exceptions are caught
// only at the HTTP edge and in main().
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "kitty/base/error_code.h"

namespace kitty {

struct Error {
  std::string message;
  // What kind of error: the HTTP edge maps it to status, type and wire code (error_code.h).
  ErrorCode code = ErrorCode::kInternal;
};

inline Error MakeError(std::string message, ErrorCode code = ErrorCode::kInternal) {
  return Error{std::move(message), code};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return *error_; }

 private:
  std::optional<Error> error_;
};

}  // namespace kitty
