// Per-environment state of the addon. The addon is context-aware: each main thread or
// worker_thread that loads it gets its own AddonState, and the environment's cleanup hook
// closes whatever that environment left open.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>
#include <utility>

namespace faxline::bindings {

// Things to close when the environment goes away. Shared by the AddonState and every open
// object, so whichever is destroyed last frees it: JS finalizers and the cleanup hook run in
// no promised order at teardown.
struct OpenRegistry {
  std::set<std::function<void()>*> closers;
  bool torn_down = false;
};

struct AddonState {
  std::shared_ptr<OpenRegistry> registry = std::make_shared<OpenRegistry>();
};

AddonState& GetAddonState(Napi::Env env);

// An object's entry in its environment's OpenRegistry: while registered, the environment's
// teardown runs the closer given to Register. Unregisters when destroyed; neither copied nor
// moved, since the registry holds the closer's address.
class OpenRegistration {
 public:
  OpenRegistration() = default;
  OpenRegistration(const OpenRegistration&) = delete;
  OpenRegistration& operator=(const OpenRegistration&) = delete;
  ~OpenRegistration() { Unregister(); }

  void Register(Napi::Env env, std::function<void()> closer) {
    registry_ = GetAddonState(env).registry;
    closer_ = std::move(closer);
    registry_->closers.insert(&closer_);
  }

  // Idempotent.
  void Unregister() {
    if (registry_) {
      registry_->closers.erase(&closer_);
      registry_.reset();
    }
  }

  // Whether the environment's teardown has begun (false once unregistered): JS can no longer
  // be called into then.
  bool TornDown() const { return registry_ && registry_->torn_down; }

 private:
  std::shared_ptr<OpenRegistry> registry_;
  std::function<void()> closer_;
};

void InitSession(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
