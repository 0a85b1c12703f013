// An in-process fax call between a sending and a receiving AudioTerminal, run as fast as
// the CPU allows: time advances by the samples exchanged, never by the clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/audio_terminal.h"

namespace faxline {

struct LoopbackOptions {
  TerminalOptions sender;
  TerminalOptions receiver;
  // false: nobody answers; the sender hears silence until its T.30 timers give up.
  bool receiver_answers = true;
  // Both sides hang up at this point in the call (samples); -1: never.
  int64_t hang_up_at_sample = -1;
  // A bound so that a protocol bug can never spin forever: one hour of line time.
  int64_t max_samples = int64_t{kSampleRate} * 3600;
  bool record_audio = false;
};

struct LoopbackOutcome {
  FaxResult sender;
  FaxResult receiver;
  std::vector<Event> sender_events;
  std::vector<Event> receiver_events;
  int64_t samples = 0;
  bool cancelled = false;
  bool hit_sample_limit = false;
  // What each side put on the line, when recorded: sender→receiver and receiver→sender.
  std::vector<int16_t> sender_audio;
  std::vector<int16_t> receiver_audio;
};

// Runs the whole call on the calling thread. cancel (may be null) is polled every frame;
// when set, both sides hang up. Throws OptionError for invalid options.
LoopbackOutcome RunLoopback(const LoopbackOptions& options, const std::atomic<bool>* cancel);

}  // namespace faxline
