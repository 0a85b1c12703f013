// The media work of a real call, over SpanDSP: G.711 coding of line audio (RTP's PCMU and
// PCMA) and the additive white Gaussian noise of the line simulator.
//
// G711Encode and G711Decode are pure, allocate nothing and may run on any thread.
// LineNoise ownership: owns a SpanDSP awgn_state_t from construction to destruction; it is
// used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>

// SpanDSP's generator state, declared here so users of this header need not include spandsp.h.
struct awgn_state_s;

namespace faxline {

// The two companding laws of ITU-T G.711.
enum class G711Law { kUlaw, kAlaw };

// Encodes n 16-bit linear samples into n G.711 code words (as sent on the line: µ-law with
// every bit inverted, A-law with the even bits inverted). pcm and out must not overlap.
void G711Encode(G711Law law, const int16_t* pcm, uint8_t* out, size_t n);

// Decodes n G.711 code words into n 16-bit linear samples. in and pcm must not overlap.
void G711Decode(G711Law law, const uint8_t* in, int16_t* pcm, size_t n);

// The range of noise levels LineNoise takes: below -100 dBm0 the noise is all zeros anyway,
// above +10 dBm0 nearly every sample saturates.
constexpr double kMinLineNoiseDbm0 = -100.0;
constexpr double kMaxLineNoiseDbm0 = 10.0;

// A stream of Gaussian white noise at a fixed power, deterministic for a seed.
class LineNoise {
 public:
  // Seeds equal modulo 2^30 give the same noise (see line_codec.cpp for why). level_dbm0 is
  // the noise power, from kMinLineNoiseDbm0 to kMaxLineNoiseDbm0. Throws
  // std::invalid_argument for a level outside that range (or NaN), std::bad_alloc when
  // SpanDSP cannot allocate.
  LineNoise(uint32_t seed, double level_dbm0);
  ~LineNoise();
  LineNoise(const LineNoise&) = delete;
  LineNoise& operator=(const LineNoise&) = delete;

  // Adds the next n noise samples to frame in place, saturating at the 16-bit limits
  // rather than wrapping. The noise continues from one call to the next.
  void Add(int16_t* frame, size_t n);

 private:
  awgn_state_s* state_ = nullptr;
};

}  // namespace faxline
