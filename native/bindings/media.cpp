#include "bindings/media.h"

#include <cmath>
#include <cstdint>
#include <new>
#include <string>

#include "bindings/args.h"

namespace faxline::bindings {
namespace {

// 10 s of 8 kHz audio: far more than a frame, small enough that a mistaken call stays cheap.
constexpr size_t kMaxG711Samples = 80000;

// Both arrays hold the same number of samples, at most kMaxG711Samples, in memory that does
// not overlap (an overlap would read samples already overwritten).
void CheckG711Lengths(const Napi::Env& env, const Int16View& pcm, const ByteView& bytes,
                      const char* pcm_name, const char* bytes_name) {
  if (pcm.length != bytes.length) {
    ThrowRange(env, std::string(pcm_name) + " holds " + std::to_string(pcm.length) +
                        " samples but " + bytes_name + " holds " + std::to_string(bytes.length));
  }
  if (pcm.length > kMaxG711Samples) {
    ThrowRange(env, std::string(pcm_name) + " must hold at most " +
                        std::to_string(kMaxG711Samples) + " samples but holds " +
                        std::to_string(pcm.length));
  }
  if (pcm.length == 0) return;
  const auto pcm_begin = reinterpret_cast<uintptr_t>(pcm.data);
  const uintptr_t pcm_end = pcm_begin + pcm.length * sizeof(int16_t);
  const auto bytes_begin = reinterpret_cast<uintptr_t>(bytes.data);
  const uintptr_t bytes_end = bytes_begin + bytes.length;
  if (pcm_begin < bytes_end && bytes_begin < pcm_end) {
    ThrowRange(env, std::string(pcm_name) + " and " + bytes_name + " must not share memory");
  }
}

// The JS numbering of the laws, already range-checked: 0 = µ-law (PCMU), 1 = A-law (PCMA).
G711Law LawArg(int law) { return law == 0 ? G711Law::kUlaw : G711Law::kAlaw; }

// g711Encode(law, pcm, out): law 0 = µ-law (PCMU), 1 = A-law (PCMA).
Napi::Value JsG711Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int law = IntArg(info, 0, "law", 0, 1);
  const Int16View pcm = Int16ViewArg(info, 1, "pcm");
  const ByteView out = Uint8ViewArg(info, 2, "out");
  CheckG711Lengths(env, pcm, out, "pcm", "out");
  G711Encode(LawArg(law), pcm.data, out.data, pcm.length);
  return env.Undefined();
}

// g711Decode(law, payload, out)
Napi::Value JsG711Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int law = IntArg(info, 0, "law", 0, 1);
  const ByteView payload = Uint8ViewArg(info, 1, "payload");
  const Int16View out = Int16ViewArg(info, 2, "out");
  CheckG711Lengths(env, out, payload, "out", "payload");
  G711Decode(LawArg(law), payload.data, out.data, out.length);
  return env.Undefined();
}

}  // namespace

const napi_type_tag NoiseGeneratorWrap::kTypeTag = NewTypeTag();

Napi::Function NoiseGeneratorWrap::DefineClass(Napi::Env env) {
  return DefineTaggedClass<NoiseGeneratorWrap>(env,
                                               {{"add", Dispatch<&NoiseGeneratorWrap::JsAdd>},
                                                {"close", Dispatch<&NoiseGeneratorWrap::JsClose>}});
}

// new NoiseGenerator(seed, levelDbm0): seed an integer from 0 to 2^32 - 1 (seeds equal modulo
// 2^30 give the same noise), levelDbm0 the noise power, from -100 to +10 dBm0.
NoiseGeneratorWrap::NoiseGeneratorWrap(const Napi::CallbackInfo& info)
    : ObjectWrap<NoiseGeneratorWrap>(info) {
  Napi::Env env = info.Env();
  RequireConstructCall<NoiseGeneratorWrap>(info);
  const Napi::Value seed_value = Arg(info, 0);
  if (!seed_value.IsNumber()) ThrowType(env, "a number", "seed", seed_value);
  const double seed = seed_value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(seed) || std::floor(seed) != seed || seed < 0 || seed > 4294967295.0)
    ThrowRange(env, "seed must be an integer from 0 to 4294967295");
  const Napi::Value level_value = Arg(info, 1);
  if (!level_value.IsNumber()) ThrowType(env, "a number", "levelDbm0", level_value);
  const double level = level_value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(level) || level < kMinLineNoiseDbm0 || level > kMaxLineNoiseDbm0)
    ThrowRange(env, "levelDbm0 must be from -100 to 10");

  // The checks above leave LineNoise only std::bad_alloc to throw, which must not cross
  // into JS as a C++ exception.
  try {
    noise_ = std::make_unique<LineNoise>(static_cast<uint32_t>(seed), level);
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "cannot allocate the noise generator");
  }
  TagAndRegister<NoiseGeneratorWrap>(info, registration_, [this] { Release(); });
}

NoiseGeneratorWrap::~NoiseGeneratorWrap() { Release(); }

void NoiseGeneratorWrap::Release() {
  noise_.reset();
  registration_.Unregister();
}

// add(frame): adds the noise to the samples in place, saturating at the 16-bit limits.
Napi::Value NoiseGeneratorWrap::JsAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!noise_) throw Napi::Error::New(env, "The noise generator is closed");
  const Int16View frame = Int16ViewArg(info, 0, "frame");
  if (frame.length > kMaxG711Samples) {
    ThrowRange(env, "frame must hold at most " + std::to_string(kMaxG711Samples) +
                        " samples but holds " + std::to_string(frame.length));
  }
  noise_->Add(frame.data, frame.length);
  return env.Undefined();
}

Napi::Value NoiseGeneratorWrap::JsClose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

void InitMedia(Napi::Env env, Napi::Object exports) {
  exports.Set("g711Encode", Napi::Function::New(env, JsG711Encode, "g711Encode"));
  exports.Set("g711Decode", Napi::Function::New(env, JsG711Decode, "g711Decode"));
  exports.Set("NoiseGenerator", NoiseGeneratorWrap::DefineClass(env));
}

}  // namespace faxline::bindings
