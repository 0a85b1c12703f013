// Udptl: the JS face of one UDPTL endpoint (engine/udptl.h), for hosts and tests: encode an IFP
// into a datagram, decode a datagram into the IFPs it delivers, read the statistics. Not the
// real-time path (each call allocates its result).
//
// Ownership: owns a faxline::Udptl until close(), the environment's teardown or garbage
// collection, whichever comes first. Every call after close() throws; close() is idempotent.
#pragma once

#include <napi.h>

#include <memory>

#include "bindings/tagged_class.h"
#include "engine/udptl.h"

namespace faxline::bindings {

class UdptlWrap : public Napi::ObjectWrap<UdptlWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit UdptlWrap(const Napi::CallbackInfo& info);
  ~UdptlWrap() override;

  // Marks objects made by this class, so a method called on a forged `this` throws.
  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "Udptl";

 private:
  Napi::Value JsEncode(const Napi::CallbackInfo& info);
  Napi::Value JsDecode(const Napi::CallbackInfo& info);
  Napi::Value JsStats(const Napi::CallbackInfo& info);
  Napi::Value JsNextSequence(const Napi::CallbackInfo& info);
  Napi::Value JsSetNextSequence(const Napi::CallbackInfo& info);
  Napi::Value JsSetMaxDatagram(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);

  // Returns the endpoint, or throws when closed.
  Udptl& Open(const Napi::CallbackInfo& info);
  // Frees the endpoint and unregisters; idempotent.
  void Release();

  std::unique_ptr<Udptl> udptl_;
  OpenRegistration registration_;
};

void InitUdptl(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
