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
  // Frees the SpanDSP terminal; the session object itself stays until garbage collection.
  void ReleaseTerminal();

  // The real-time path: one 20 ms frame in each direction through Int16Arrays shared with
  // JS, driven by two functions bound to this line (see JsFrameBuffers). Shared with those
  // functions, which may outlive the session: `terminal` is null once it is closed.
  struct FrameLine {
    AudioTerminal* terminal = nullptr;
    int16_t* received = nullptr;
    int16_t* transmit = nullptr;
  };
  template <bool lost>
  static Napi::Value ProcessFrame(const Napi::CallbackInfo& info);

  std::unique_ptr<AudioTerminal> terminal_;
  std::vector<Event> scratch_events_;
  std::shared_ptr<FrameLine> frame_line_;
  // Keep the object handed out (with the functions) alive, and the two Int16Arrays whose
  // memory frame_line_ points into on their own: JS may replace the object's properties.
  Napi::ObjectReference frame_buffers_ref_;
  Napi::Reference<Napi::Int16Array> frame_received_ref_;
  Napi::Reference<Napi::Int16Array> frame_transmit_ref_;
  OpenRegistration registration_;
};

}  // namespace faxline::bindings
