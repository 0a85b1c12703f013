// FaxSession: the JS face of one fax terminal, driven frame by frame by its host.
//
// Ownership: owns a Terminal until close(), the environment's teardown or garbage
// collection, whichever comes first. Every call after close() throws. Per-frame calls
// (process/receive/transmit) allocate nothing in steady state: they read and write the
// caller's Int16Arrays in place and report only how many events are waiting.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "bindings/tagged_class.h"
#include "engine/audio_terminal.h"

namespace faxline::bindings {

class FaxSession : public Napi::ObjectWrap<FaxSession> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit FaxSession(const Napi::CallbackInfo& info);
  ~FaxSession() override;

  // Marks objects made by this class, so a method called on a forged `this` throws.
  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "FaxSession";

 private:
  Napi::Value JsProcess(const Napi::CallbackInfo& info);
  Napi::Value JsFrameBuffers(const Napi::CallbackInfo& info);
  Napi::Value JsProcessFrame(const Napi::CallbackInfo& info);
  Napi::Value JsReceive(const Napi::CallbackInfo& info);
  Napi::Value JsReceiveMissing(const Napi::CallbackInfo& info);
  Napi::Value JsTransmit(const Napi::CallbackInfo& info);
  Napi::Value JsTakeEvents(const Napi::CallbackInfo& info);
  Napi::Value JsHangUp(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsFinished(const Napi::CallbackInfo& info);
  Napi::Value JsResult(const Napi::CallbackInfo& info);
  Napi::Value JsElapsedMs(const Napi::CallbackInfo& info);
  Napi::Value JsClosed(const Napi::CallbackInfo& info);

  // Returns the terminal, or throws when the session is closed.
  AudioTerminal& Open(const Napi::CallbackInfo& info);
  void Close();

  std::unique_ptr<AudioTerminal> terminal_;
  std::vector<Event> scratch_events_;
  // One frame in each direction, shared with JS as Int16Arrays so the per-frame call
  // (processFrame) needs no arguments to check: the cheapest path through N-API.
  Napi::Reference<Napi::Int16Array> frame_in_ref_;
  Napi::Reference<Napi::Int16Array> frame_out_ref_;
  int16_t* frame_in_ = nullptr;
  int16_t* frame_out_ = nullptr;
  OpenRegistration registration_;
};

}  // namespace faxline::bindings
