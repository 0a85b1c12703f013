#include "engine/line_codec.h"

#include <spandsp.h>

#include <new>
#include <stdexcept>

namespace faxline {
namespace {

// SpanDSP's awgn_init negates a negative seed and adds the seed to a small constant, both in
// int arithmetic: a seed of 2^31 or more would overflow. Reducing it below 2^30 keeps every
// uint32_t seed usable and the sum far from INT_MAX.
constexpr uint32_t kSeedModulus = 1u << 30;

}  // namespace

void G711Encode(G711Law law, const int16_t* pcm, uint8_t* out, size_t n) {
  // The law is tested once, outside the per-sample loops.
  if (law == G711Law::kUlaw) {
    for (size_t i = 0; i < n; ++i) out[i] = linear_to_ulaw(pcm[i]);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = linear_to_alaw(pcm[i]);
  }
}

void G711Decode(G711Law law, const uint8_t* in, int16_t* pcm, size_t n) {
  if (law == G711Law::kUlaw) {
    for (size_t i = 0; i < n; ++i) pcm[i] = ulaw_to_linear(in[i]);
  } else {
    for (size_t i = 0; i < n; ++i) pcm[i] = alaw_to_linear(in[i]);
  }
}

LineNoise::LineNoise(uint32_t seed, double level_dbm0) {
  // Written so that NaN fails too.
  if (!(level_dbm0 >= kMinLineNoiseDbm0 && level_dbm0 <= kMaxLineNoiseDbm0)) {
    throw std::invalid_argument("the noise level must be from -100 to 10 dBm0");
  }
  const int idum = static_cast<int>(seed % kSeedModulus);
  state_ = awgn_init_dbm0(nullptr, idum, static_cast<float>(level_dbm0));
  if (state_ == nullptr) throw std::bad_alloc();
}

LineNoise::~LineNoise() { awgn_free(state_); }

void LineNoise::Add(int16_t* frame, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    int32_t sum = static_cast<int32_t>(frame[i]) + awgn(state_);
    if (sum > INT16_MAX) sum = INT16_MAX;
    if (sum < INT16_MIN) sum = INT16_MIN;
    frame[i] = static_cast<int16_t>(sum);
  }
}

}  // namespace faxline
