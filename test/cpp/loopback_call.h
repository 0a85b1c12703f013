// Test support: a whole fax call between a sending and a receiving AudioTerminal in one
// thread, as fast as the CPU allows (time advances by the samples exchanged, never by the
// clock). The addon has no such call of its own: its one loopback is runSimulatedCall in
// lib/transports/impaired-line.ts, over FaxSessions. Header-only; each test program is its own.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "engine/audio_terminal.h"

namespace faxline::test {

struct LoopbackOptions {
  TerminalOptions sender;
  TerminalOptions receiver;
  // false: nobody answers; the sender hears silence until its T.30 timers give up.
  bool receiver_answers = true;
  // Both sides hang up at this point in the call (samples); -1: never.
  int64_t hang_up_at_sample = -1;
  // A bound so that a protocol bug can never spin forever: one hour of line time.
  int64_t max_samples = int64_t{kSampleRate} * 3600;
};

struct LoopbackOutcome {
  FaxResult sender;
  FaxResult receiver;
  std::vector<Event> sender_events;
  std::vector<Event> receiver_events;
  int64_t samples = 0;
  bool cancelled = false;
  bool hit_sample_limit = false;
};

inline void AppendEvents(T30Session& session, std::vector<Event>& scratch,
                         std::vector<Event>& out) {
  if (session.pending_events() == 0) return;
  session.TakeEvents(scratch);
  out.insert(out.end(), std::make_move_iterator(scratch.begin()),
             std::make_move_iterator(scratch.end()));
}

// Runs the whole call. cancel (may be null) is polled every frame; when set, both sides hang
// up. Throws OptionError for invalid options.
inline LoopbackOutcome RunLoopback(const LoopbackOptions& options,
                                   const std::atomic<bool>* cancel) {
  LoopbackOutcome outcome;
  AudioTerminal sender(options.sender);
  std::unique_ptr<AudioTerminal> receiver;
  if (options.receiver_answers) receiver = std::make_unique<AudioTerminal>(options.receiver);

  std::array<int16_t, kSamplesPerFrame> to_receiver{};
  std::array<int16_t, kSamplesPerFrame> to_sender{};
  std::vector<Event> scratch;

  auto all_finished = [&] {
    return sender.session().finished() && (!receiver || receiver->session().finished());
  };

  // A sender that failed before its modem started (a document it cannot send) never calls.
  const bool sender_failed_before_start = sender.session().finished();
  while (!sender_failed_before_start && !all_finished()) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) {
      outcome.cancelled = true;
      break;
    }
    if (options.hang_up_at_sample >= 0 && outcome.samples >= options.hang_up_at_sample) break;
    if (outcome.samples >= options.max_samples) {
      outcome.hit_sample_limit = true;
      break;
    }
    sender.Transmit(to_receiver.data(), kSamplesPerFrame);
    if (receiver) {
      receiver->Receive(to_receiver.data(), kSamplesPerFrame);
      receiver->Transmit(to_sender.data(), kSamplesPerFrame);
    } else {
      to_sender.fill(0);
    }
    sender.Receive(to_sender.data(), kSamplesPerFrame);
    outcome.samples += kSamplesPerFrame;
    AppendEvents(sender.session(), scratch, outcome.sender_events);
    if (receiver) AppendEvents(receiver->session(), scratch, outcome.receiver_events);
  }

  // Whatever stopped the loop early, both ends see a hang-up.
  sender.HangUp();
  if (receiver) receiver->HangUp();
  AppendEvents(sender.session(), scratch, outcome.sender_events);
  outcome.sender = sender.session().result();
  if (receiver) {
    AppendEvents(receiver->session(), scratch, outcome.receiver_events);
    outcome.receiver = receiver->session().result();
  }
  return outcome;
}

}  // namespace faxline::test
