// Per-environment state of the addon. The addon is context-aware: each main thread or
// worker_thread that loads it gets its own AddonState, and the environment's cleanup hook
// closes whatever that environment left open.
#pragma once

#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>
#include <set>

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
  Napi::FunctionReference session_constructor;
};

AddonState& GetAddonState(Napi::Env env);

void InitSession(Napi::Env env, Napi::Object exports);
void InitLoopback(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
