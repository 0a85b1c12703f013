#include "bindings/media.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "bindings/args.h"

namespace faxline::bindings {
namespace {

// 10 s of 8 kHz audio: far more than a frame, small enough that a mistaken call stays cheap.
constexpr size_t kMaxG711Samples = 80000;

// The ends of the noise level: below -100 dBm0 the noise is all zeros anyway, above +10 dBm0
// nearly every sample saturates.
constexpr double kMinNoiseDbm0 = -100.0;
constexpr double kMaxNoiseDbm0 = 10.0;

// SpanDSP's awgn_init adds its seed to a small constant in int arithmetic; seeds are reduced
// below 2^30 so that sum can never overflow.
constexpr uint32_t kNoiseSeedModulus = 1u << 30;

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

struct ByteView {
  uint8_t* data = nullptr;
  size_t length = 0;
};

ByteView Uint8ViewArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = Arg(info, index);
  napi_typedarray_type type;
  ByteView view;
  void* data = nullptr;
  if (napi_get_typedarray_info(info.Env(), v, &type, &view.length, &data, nullptr, nullptr) !=
          napi_ok ||
      type != napi_uint8_array) {
    ThrowType(info.Env(), "a Uint8Array", what, v);
  }
  view.data = static_cast<uint8_t*>(data);
  return view;
}

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

// g711Encode(law, pcm, out): law 0 = µ-law (PCMU), 1 = A-law (PCMA).
Napi::Value JsG711Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int law = IntArg(info, 0, "law", 0, 1);
  const Int16View pcm = Int16ViewArg(info, 1, "pcm");
  const ByteView out = Uint8ViewArg(info, 2, "out");
  CheckG711Lengths(env, pcm, out, "pcm", "out");
  if (law == 0) {
    for (size_t i = 0; i < pcm.length; ++i) out.data[i] = linear_to_ulaw(pcm.data[i]);
  } else {
    for (size_t i = 0; i < pcm.length; ++i) out.data[i] = linear_to_alaw(pcm.data[i]);
  }
  return env.Undefined();
}

// g711Decode(law, payload, out)
Napi::Value JsG711Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int law = IntArg(info, 0, "law", 0, 1);
  const ByteView payload = Uint8ViewArg(info, 1, "payload");
  const Int16View out = Int16ViewArg(info, 2, "out");
  CheckG711Lengths(env, out, payload, "out", "payload");
  if (law == 0) {
    for (size_t i = 0; i < out.length; ++i) out.data[i] = ulaw_to_linear(payload.data[i]);
  } else {
    for (size_t i = 0; i < out.length; ++i) out.data[i] = alaw_to_linear(payload.data[i]);
  }
  return env.Undefined();
}

}  // namespace

const napi_type_tag NoiseGeneratorWrap::kTypeTag = {0x6661786c696e6531ULL, 0x6e6f69736567656eULL};

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
  if (!info.IsConstructCall())
    throw Napi::TypeError::New(env, "NoiseGenerator must be called with new");
  const Napi::Value seed_value = Arg(info, 0);
  if (!seed_value.IsNumber()) ThrowType(env, "a number", "seed", seed_value);
  const double seed = seed_value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(seed) || std::floor(seed) != seed || seed < 0 || seed > 4294967295.0)
    ThrowRange(env, "seed must be an integer from 0 to 4294967295");
  const Napi::Value level_value = Arg(info, 1);
  if (!level_value.IsNumber()) ThrowType(env, "a number", "levelDbm0", level_value);
  const double level = level_value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(level) || level < kMinNoiseDbm0 || level > kMaxNoiseDbm0)
    ThrowRange(env, "levelDbm0 must be from -100 to 10");

  const int idum = static_cast<int>(static_cast<uint32_t>(seed) % kNoiseSeedModulus);
  state_ = awgn_init_dbm0(nullptr, idum, static_cast<float>(level));
  if (state_ == nullptr) throw Napi::Error::New(env, "cannot allocate the noise generator");
  if (!TagObject(env, info.This(), kTypeTag)) {
    Release();
    throw Napi::Error::New(env, "cannot tag the NoiseGenerator object");
  }
  registration_.Register(env, [this] { Release(); });
}

NoiseGeneratorWrap::~NoiseGeneratorWrap() { Release(); }

void NoiseGeneratorWrap::Release() {
  if (state_ != nullptr) {
    awgn_free(state_);
    state_ = nullptr;
  }
  registration_.Unregister();
}

// add(frame): adds the noise to the samples in place, saturating at the 16-bit limits.
Napi::Value NoiseGeneratorWrap::JsAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (state_ == nullptr) throw Napi::Error::New(env, "The noise generator is closed");
  const Int16View frame = Int16ViewArg(info, 0, "frame");
  if (frame.length > kMaxG711Samples) {
    ThrowRange(env, "frame must hold at most " + std::to_string(kMaxG711Samples) +
                        " samples but holds " + std::to_string(frame.length));
  }
  for (size_t i = 0; i < frame.length; ++i) {
    int32_t sum = static_cast<int32_t>(frame.data[i]) + awgn(state_);
    if (sum > INT16_MAX) sum = INT16_MAX;
    if (sum < INT16_MIN) sum = INT16_MIN;
    frame.data[i] = static_cast<int16_t>(sum);
  }
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
