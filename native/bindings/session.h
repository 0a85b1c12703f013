// FaxSession: the JS face of one fax terminal, driven frame by frame (audio) or tick by tick
// (T.38) by its host.
//
// Ownership: owns a Terminal (an AudioTerminal, or a T38Terminal when made with `t38` or
// after switchToT38) until close(), the environment's teardown or garbage collection,
// whichever comes first. Every call after close() throws. Per-frame calls (process/receive/
// transmit, and the datagram port's receive/tick) allocate nothing in steady state: they read
// and write the caller's typed arrays in place and report only how many events are waiting.
// The audio calls throw on a T.38 session and the datagram calls on an audio one; all of them
// throw while the session is in a SessionGroup, which then drives it.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "bindings/line_buffers.h"
#include "bindings/tagged_class.h"
#include "engine/audio_terminal.h"
#include "engine/t38_terminal.h"

namespace faxline::bindings {

class SessionGroup;

class FaxSession : public Napi::ObjectWrap<FaxSession> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit FaxSession(const Napi::CallbackInfo& info);
  ~FaxSession() override;

  // Marks objects made by this class, so a method called on a forged `this` throws.
  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "FaxSession";

  // The session behind `value`, or null when it is not a FaxSession of this addon.
  static FaxSession* FromValue(Napi::Env env, Napi::Value value);

  // SessionGroup's side: the terminal of the session's medium (null when closed or in the
  // other medium), and membership, which turns the session's own per-frame calls off.
  AudioTerminal* audio_terminal() { return audio_; }
  T38Terminal* t38_terminal() { return t38_; }
  bool in_group() const { return group_ != nullptr; }
  void JoinGroup(SessionGroup* group, int slot);
  void LeaveGroup();

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
  Napi::Value JsMedium(const Napi::CallbackInfo& info);
  Napi::Value JsDatagramBuffers(const Napi::CallbackInfo& info);
  Napi::Value JsSwitchToT38(const Napi::CallbackInfo& info);
  Napi::Value JsUdptlStats(const Napi::CallbackInfo& info);

  // Returns the terminal, or throws when the session is closed.
  Terminal& Open(const Napi::CallbackInfo& info);
  // Open, and throws unless the terminal is of that medium.
  AudioTerminal& Audio(const Napi::CallbackInfo& info);
  T38Terminal& T38(const Napi::CallbackInfo& info);
  void Close();
  // Points the real-time lines handed to JS at the terminal they may drive now, or at nothing
  // with the reason (closed, in T.38, in a group), after any change of those.
  void UpdateLines();
  // Frees the SpanDSP terminal; the session object itself stays until garbage collection.
  void ReleaseTerminal();

  // The audio real-time path (see MakeFrameBuffers): `terminal` is null once the session is
  // closed or has switched to T.38, and `unavailable` then says which.
  struct FrameLine {
    AudioTerminal* terminal = nullptr;
    int16_t* received = nullptr;
    int16_t* transmit = nullptr;
    const char* unavailable = "The fax session is closed";
  };
  template <bool lost>
  static Napi::Value ProcessFrame(const Napi::CallbackInfo& info);
  static Napi::Value DatagramReceive(const Napi::CallbackInfo& info);
  static Napi::Value DatagramTick(const Napi::CallbackInfo& info);
  static Napi::Value DatagramPendingEvents(const Napi::CallbackInfo& info);

  std::unique_ptr<Terminal> terminal_;
  AudioTerminal* audio_ = nullptr;  // terminal_ when it is an audio one
  T38Terminal* t38_ = nullptr;      // terminal_ when it is a T.38 one
  std::vector<Event> scratch_events_;
  std::shared_ptr<FrameLine> frame_line_;
  FrameBuffersRefs frame_buffers_;
  std::shared_ptr<DatagramLine> datagram_line_;
  DatagramBuffersRefs datagram_buffers_;
  SessionGroup* group_ = nullptr;
  int group_slot_ = -1;
  OpenRegistration registration_;
};

}  // namespace faxline::bindings
