#include "kbz/engine/rolling.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "kbz/core/interrupt.hpp"

namespace kbz {

bool has_rolling_step(const Module& module) {
  return std::any_of(module.steps.begin(), module.steps.end(),
                     [](const Step& s) { return s.rolling.has_value(); });
}

// One rolling step. A member goes Pending -> Arrived (needs a change) -> Declared (primary or not) -> Going
// (its turn) -> Passed; leaving jumps to Passed from anywhere.
struct RollingCoordinator::Gate {
  enum class State { Pending, Arrived, Declared, Going, Passed };
  struct Member {
    std::string host;
    State state = State::Pending;
    bool primary = false;
    long long rank = 0;
  };
  std::string step_id;
  std::vector<Member> members;  // inventory order
  std::vector<size_t> order;    // members that roll, replicas then primary; fixed once every answer is in
  bool ordered = false;
  size_t next = 0;        // index in `order` of the host whose turn it is
  std::string last_done;  // the host that changed last
  std::string failed;     // non-empty: rolling stopped by this host
  std::string ranks;      // "host=rank ..." of the hosts that roll, once ordered

  Member* find(const std::string& host) {
    for (auto& m : members)
      if (m.host == host) return &m;
    return nullptr;
  }
  bool any(State s) const {
    return std::any_of(members.begin(), members.end(), [&](const Member& m) { return m.state == s; });
  }
  // The member whose turn it is; skips those who left while waiting (Ctrl-C).
  const Member* current() {
    while (next < order.size() && members[order[next]].state == State::Passed) ++next;
    return next < order.size() ? &members[order[next]] : nullptr;
  }
  std::string stop_message() const {
    return fmt::format("rolling stopped: {} failed at {}", failed, step_id);
  }
};

RollingCoordinator::RollingCoordinator(const Module& module, std::vector<std::string> hosts) {
  for (const auto& s : module.steps) {
    if (!s.rolling) continue;
    auto g = std::make_unique<Gate>();
    g->step_id = s.id;
    for (const auto& h : hosts) g->members.push_back({h});
    gates_[s.id] = std::move(g);
  }
}

RollingCoordinator::~RollingCoordinator() = default;

RollingCoordinator::Gate* RollingCoordinator::gate(const std::string& step_id) {
  const auto it = gates_.find(step_id);
  return it == gates_.end() ? nullptr : it->second.get();
}

RollingTurn RollingCoordinator::wait_turn(const std::string& step_id, const std::string& host,
                                          const std::function<Result<bool>()>& is_primary) {
  return wait_turn_ranked(step_id, host, [&]() -> Result<RollingPlace> {
    auto p = is_primary();
    if (!p) return fail(p.error().kind, "rolling.primary_check: " + p.error().message);
    return RollingPlace{*p, 0};
  });
}

RollingTurn RollingCoordinator::wait_turn_ranked(const std::string& step_id, const std::string& host,
                                                 const std::function<Result<RollingPlace>()>& place) {
  using State = Gate::State;
  using Outcome = RollingTurn::Outcome;
  std::unique_lock lock(mutex_);
  Gate* g = gate(step_id);
  Gate::Member* me = g ? g->find(host) : nullptr;
  if (!me || me->state != State::Pending)
    return {Outcome::Stopped,
            0,
            0,
            false,
            {},
            fmt::format("{} is not waiting in rolling step {} (internal error)", host, step_id)};

  // A signal handler cannot notify a condition variable: poll the Ctrl-C flag while waiting.
  const auto wait = [&](auto ready) {
    while (!ready() && g->failed.empty()) {
      if (interrupted()) return false;
      changed_.wait_for(lock, std::chrono::milliseconds(200));
    }
    return true;
  };
  const auto give_up = [&](Outcome outcome) {
    me->state = State::Passed;
    changed_.notify_all();
    return RollingTurn{outcome, 0,  0,
                       false,   {}, outcome == Outcome::Stopped ? g->stop_message() : "interrupted"};
  };

  me->state = State::Arrived;
  changed_.notify_all();
  if (!wait([&] { return !g->any(State::Pending); })) return give_up(Outcome::Interrupted);
  if (!g->failed.empty()) return give_up(Outcome::Stopped);

  // Asked as late as possible (a failover may have moved the primary while hosts worked on earlier steps),
  // without the lock: it is a command on this host.
  lock.unlock();
  const auto primary = place();
  lock.lock();
  if (!primary) {
    if (g->failed.empty()) g->failed = host;
    me->state = State::Passed;
    changed_.notify_all();
    return {Outcome::Stopped, 0, 0, false, {}, primary.error().message};
  }
  me->primary = primary->primary;
  me->rank = primary->rank;
  me->state = State::Declared;
  changed_.notify_all();
  if (!wait([&] { return !g->any(State::Pending) && !g->any(State::Arrived); }))
    return give_up(Outcome::Interrupted);
  if (!g->failed.empty()) return give_up(Outcome::Stopped);

  if (!g->ordered) {
    for (bool primaries : {false, true}) {
      std::vector<size_t> group;
      for (size_t i = 0; i < g->members.size(); ++i)
        if (g->members[i].state == State::Declared && g->members[i].primary == primaries) group.push_back(i);
      std::stable_sort(group.begin(), group.end(),
                       [&](size_t a, size_t b) { return g->members[a].rank > g->members[b].rank; });
      g->order.insert(g->order.end(), group.begin(), group.end());
    }
    for (size_t i = 0; i < g->members.size(); ++i)
      if (g->members[i].state == State::Declared)
        g->ranks +=
            fmt::format("{}{}={}", g->ranks.empty() ? "" : " ", g->members[i].host, g->members[i].rank);
    g->ordered = true;
  }
  if (!wait([&] { return g->current() == me; })) return give_up(Outcome::Interrupted);
  if (!g->failed.empty()) return give_up(Outcome::Stopped);

  me->state = State::Going;
  const auto at = std::find(g->order.begin(), g->order.end(), static_cast<size_t>(me - g->members.data()));
  return {Outcome::Go,
          static_cast<int>(at - g->order.begin()) + 1,
          static_cast<int>(g->order.size()),
          me->primary,
          g->last_done,
          {},
          g->ranks};
}

void RollingCoordinator::done(const std::string& step_id, const std::string& host, Change change) {
  const bool ok = change == Change::Done;
  std::lock_guard lock(mutex_);
  Gate* g = gate(step_id);
  Gate::Member* me = g ? g->find(host) : nullptr;
  if (!me || me->state != Gate::State::Going) return;
  me->state = Gate::State::Passed;
  if (ok)
    g->last_done = host;
  else if (g->failed.empty())
    g->failed = host;
  changed_.notify_all();
}

void RollingCoordinator::leave(const std::string& step_id, const std::string& host) {
  std::lock_guard lock(mutex_);
  Gate* g = gate(step_id);
  Gate::Member* me = g ? g->find(host) : nullptr;
  if (!me || me->state == Gate::State::Passed) return;
  if (me->state == Gate::State::Going && g->failed.empty()) g->failed = host;
  me->state = Gate::State::Passed;
  changed_.notify_all();
}

void RollingCoordinator::leave_all(const std::string& host) {
  for (const auto& [id, _] : gates_) leave(id, host);  // gates_ never changes after construction
}

}  // namespace kbz
