#include "kitty/worker/ready_gate.h"

#include <vector>

namespace kitty {
namespace {
// Cut errors kept for handlers installed late (a request that took its lease an instant
// before the cut); older ones are dropped so the map stays small.
constexpr size_t kRecentCutsKept = 1024;
}  // namespace

// ---- Lease ----------------------------------------------------------------------------

Lease::Lease(Lease&& o) noexcept
    : gate_(std::move(o.gate_)), id_(std::exchange(o.id_, 0)), endpoint_(std::move(o.endpoint_)) {}

Lease& Lease::operator=(Lease&& o) noexcept {
  if (this != &o) {
    reset();
    gate_ = std::move(o.gate_);
    id_ = std::exchange(o.id_, 0);
    endpoint_ = std::move(o.endpoint_);
  }
  return *this;
}

Lease::~Lease() { reset(); }

void Lease::reset() {
  if (id_ == 0) return;
  gate_->end(id_);
  id_ = 0;
  gate_.reset();
}

void Lease::on_cut(std::function<void(const Error&)> fn) {
  if (id_ != 0) gate_->set_cut_handler(id_, std::move(fn));
}

void Lease::progress() {
  if (id_ != 0)
    gate_->last_progress_.store(gate_->clock_->now().time_since_epoch().count(), std::memory_order_relaxed);
}

void Lease::report_hung(std::string why) {
  if (id_ == 0 || !gate_->on_hung_) return;
  gate_->clock_->post([fn = gate_->on_hung_, pid = endpoint_.pid, why = std::move(why)] { fn(pid, why); });
}

// ---- ReadyGate ------------------------------------------------------------------------

std::shared_ptr<ReadyGate> ReadyGate::Create(Clock* clock, std::function<void()> on_drained,
                                             HungHandler on_hung) {
  return std::shared_ptr<ReadyGate>(new ReadyGate(clock, std::move(on_drained), std::move(on_hung)));
}

ReadyGate::ReadyGate(Clock* clock, std::function<void()> on_drained, HungHandler on_hung)
    : clock_(clock), on_drained_(std::move(on_drained)), on_hung_(std::move(on_hung)) {}

std::optional<Lease> ReadyGate::try_lease() {
  std::lock_guard lock(mu_);
  if (!open_) return std::nullopt;
  Lease l;
  l.gate_ = shared_from_this();
  l.id_ = next_id_++;
  l.endpoint_ = endpoint_;
  leases_.emplace(l.id_, nullptr);
  ++requests_total_;
  last_progress_.store(clock_->now().time_since_epoch().count(), std::memory_order_relaxed);
  last_used_ = clock_->wall_now();
  return l;
}

void ReadyGate::end(uint64_t id) {
  bool drained = false;
  {
    std::lock_guard lock(mu_);
    if (leases_.erase(id) == 0) {
      recently_cut_.erase(id);
      return;  // cut earlier: it stopped counting then
    }
    last_end_ = clock_->now();
    last_used_ = clock_->wall_now();
    drained = leases_.empty() && !open_;
  }
  if (drained && on_drained_) clock_->post(on_drained_);
}

void ReadyGate::set_cut_handler(uint64_t id, std::function<void(const Error&)> fn) {
  std::optional<Error> already;
  {
    std::lock_guard lock(mu_);
    if (auto it = leases_.find(id); it != leases_.end()) {
      it->second = std::move(fn);
      return;
    }
    auto it = recently_cut_.find(id);
    already = it != recently_cut_.end() ? it->second
                                        : MakeError("request was cut", ErrorCode::kWorkerStopping);
  }
  fn(*already);
}

ReadyGate::Stats ReadyGate::stats() const {
  std::lock_guard lock(mu_);
  return Stats{static_cast<int>(leases_.size()), requests_total_, last_end_, last_used_,
               TimePoint(Duration(last_progress_.load(std::memory_order_relaxed)))};
}

bool ReadyGate::is_open() const {
  std::lock_guard lock(mu_);
  return open_;
}

void ReadyGate::open(const Endpoint& ep) {
  std::lock_guard lock(mu_);
  open_ = true;
  endpoint_ = ep;
  last_end_ = clock_->now();
}

int ReadyGate::close() {
  std::lock_guard lock(mu_);
  open_ = false;
  return static_cast<int>(leases_.size());
}

bool ReadyGate::close_if_idle() {
  std::lock_guard lock(mu_);
  if (!leases_.empty()) return false;
  open_ = false;
  return true;
}

void ReadyGate::cut(const Error& why) {
  std::vector<std::function<void(const Error&)>> handlers;
  {
    std::lock_guard lock(mu_);
    open_ = false;
    for (auto& [id, fn] : leases_) {
      if (fn) handlers.push_back(std::move(fn));
      recently_cut_.emplace(id, why);
    }
    while (recently_cut_.size() > kRecentCutsKept) recently_cut_.erase(recently_cut_.begin());
    leases_.clear();
    last_end_ = clock_->now();
  }
  for (auto& fn : handlers) fn(why);
}

}  // namespace kitty
