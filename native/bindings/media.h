// Media helpers for real calls: G.711 (µ-law/A-law) coding of 20 ms frames, and the additive
// white Gaussian noise of the line simulator. The work is engine/line_codec's; this file only
// checks arguments and manages the JS object's lifecycle.
//
// g711Encode and g711Decode are synchronous, per-frame calls that allocate nothing: they read
// the caller's typed array and write the other in place.
//
// NoiseGenerator ownership: owns a LineNoise (a SpanDSP awgn_state_t) until close(), the
// environment's teardown or garbage collection, whichever comes first. Every call after close()
// throws; close() is idempotent.
#pragma once

#include <napi.h>

#include <memory>

#include "bindings/tagged_class.h"
#include "engine/line_codec.h"

namespace faxline::bindings {

class NoiseGeneratorWrap : public Napi::ObjectWrap<NoiseGeneratorWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit NoiseGeneratorWrap(const Napi::CallbackInfo& info);
  ~NoiseGeneratorWrap() override;

  // Marks objects made by this class, so a method called on a forged `this` throws.
  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "NoiseGenerator";

 private:
  Napi::Value JsAdd(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);

  // Frees the generator and unregisters; idempotent.
  void Release();

  std::unique_ptr<LineNoise> noise_;
  OpenRegistration registration_;
};

void InitMedia(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
