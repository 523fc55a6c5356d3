// StartAdmission: the gate a Worker passes before it spawns, where the memory scheduler decides
// whether the model fits, makes room first (stopping others), or refuses (no_room). Implemented
// by the manager's Scheduler; absent (null in Env) means every start goes ahead at once.
// Control thread only.
#pragma once

#include <functional>
#include <memory>

#include "kitty/base/result.h"

namespace kitty {

class Worker;

class StartAdmission {
 public:
  virtual ~StartAdmission() = default;
  /// `w` wants to start. `decide` is called once, later (never inside this call): OK to spawn
  /// now, or the error to answer its waiters with.
  virtual void request(const std::shared_ptr<Worker>& w, std::function<void(Status)> decide) = 0;
  /// The start was abandoned (a release while waiting): `decide` will not be called.
  virtual void withdraw(const Worker& w) = 0;
};

}  // namespace kitty
