// T38Gateway: the JS face of a T.38 gateway (engine/t38_gateway.h) bridging an audio leg and
// a T.38 leg. The audio leg runs frame by frame like a FaxSession's (frameBuffers); the T.38
// leg through a datagram port (datagramBuffers) whose outbox fills as the audio frames advance
// the gateway's clock: there is no tick.
//
// Ownership: owns the T38Gateway until close(), the environment's teardown or garbage
// collection, whichever comes first. Every call after close() throws; close() is idempotent.
// The per-frame and per-datagram calls allocate nothing in steady state.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "bindings/line_buffers.h"
#include "bindings/tagged_class.h"
#include "engine/t38_gateway.h"

namespace faxline::bindings {

class T38GatewayWrap : public Napi::ObjectWrap<T38GatewayWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit T38GatewayWrap(const Napi::CallbackInfo& info);
  ~T38GatewayWrap() override;

  // Marks objects made by this class, so a method called on a forged `this` throws.
  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "T38Gateway";

 private:
  Napi::Value JsFrameBuffers(const Napi::CallbackInfo& info);
  Napi::Value JsDatagramBuffers(const Napi::CallbackInfo& info);
  Napi::Value JsTakeEvents(const Napi::CallbackInfo& info);
  Napi::Value JsStats(const Napi::CallbackInfo& info);
  Napi::Value JsUdptlStats(const Napi::CallbackInfo& info);
  Napi::Value JsElapsedMs(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsClosed(const Napi::CallbackInfo& info);

  T38Gateway& Open(const Napi::CallbackInfo& info);
  // Frees the gateway and unregisters; idempotent.
  void Release();

  // The audio leg's path (see MakeFrameBuffers); `gateway` is null once closed.
  struct FrameLine {
    T38Gateway* gateway = nullptr;
    int16_t* received = nullptr;
    int16_t* transmit = nullptr;
  };
  template <bool lost>
  static Napi::Value ProcessFrame(const Napi::CallbackInfo& info);
  static Napi::Value DatagramReceive(const Napi::CallbackInfo& info);
  static Napi::Value DatagramTake(const Napi::CallbackInfo& info);
  static Napi::Value DatagramPendingEvents(const Napi::CallbackInfo& info);

  std::unique_ptr<T38Gateway> gateway_;
  std::vector<Event> scratch_events_;
  std::shared_ptr<FrameLine> frame_line_;
  FrameBuffersRefs frame_buffers_;
  std::shared_ptr<DatagramLine> datagram_line_;
  DatagramBuffersRefs datagram_buffers_;
  OpenRegistration registration_;
};

void InitGateway(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
