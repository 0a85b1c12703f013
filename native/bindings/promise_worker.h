// An AsyncWorker that settles a promise: Run() on a libuv thread, Result() on the JS thread.
// What the addon's async functions (startLoopback, checkTiffAsync) share. The environment's
// teardown runs the worker's on_teardown (to stop work in progress); the promise is then left
// unsettled, since an exiting worker_thread can no longer run JS.
#pragma once

#include <napi.h>

#include <exception>
#include <functional>
#include <utility>

#include "bindings/addon.h"

namespace faxline::bindings {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name, std::function<void()> on_teardown)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {
    registration_.Register(env, std::move(on_teardown));
  }

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  // The work, on a libuv thread. A std::exception rejects the promise with its message.
  virtual void Run() = 0;
  // The value the promise resolves with, built on the JS thread once Run() has returned.
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  void Execute() final {
    try {
      Run();
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() final {
    if (registration_.TornDown()) return;
    try {
      deferred_.Resolve(Result(Env()));
    } catch (const Napi::Error&) {
      // The environment began shutting down while the result was being built.
    }
  }

  void OnError(const Napi::Error& e) final {
    if (registration_.TornDown()) return;
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
  }

  Napi::Promise::Deferred deferred_;
  OpenRegistration registration_;
};

}  // namespace faxline::bindings
