#include "engine/loopback.h"

#include <array>
#include <iterator>
#include <memory>

namespace faxline {
namespace {

void AppendEvents(T30Session& session, std::vector<Event>& scratch, std::vector<Event>& out) {
  if (session.pending_events() == 0) return;
  session.TakeEvents(scratch);
  out.insert(out.end(), std::make_move_iterator(scratch.begin()),
             std::make_move_iterator(scratch.end()));
}

}  // namespace

LoopbackOutcome RunLoopback(const LoopbackOptions& options, const std::atomic<bool>* cancel) {
  LoopbackOutcome outcome;
  AudioTerminal sender(options.sender);
  std::unique_ptr<AudioTerminal> receiver;
  if (options.receiver_answers) receiver = std::make_unique<AudioTerminal>(options.receiver);

  std::array<int16_t, kSamplesPerFrame> to_receiver{};
  std::array<int16_t, kSamplesPerFrame> to_sender{};
  std::vector<Event> scratch;
  if (options.record_audio) {
    // About ten minutes of line time before the first reallocation.
    outcome.sender_audio.reserve(size_t{kSampleRate} * 600);
    outcome.receiver_audio.reserve(size_t{kSampleRate} * 600);
  }

  auto all_finished = [&] {
    return sender.session().finished() && (!receiver || receiver->session().finished());
  };

  // A sender that failed before its modem started (a document it cannot send) never calls:
  // the receiver would only hear silence until its own timers gave up.
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
    if (options.record_audio) {
      outcome.sender_audio.insert(outcome.sender_audio.end(), to_receiver.begin(),
                                  to_receiver.end());
      outcome.receiver_audio.insert(outcome.receiver_audio.end(), to_sender.begin(),
                                    to_sender.end());
    }
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

}  // namespace faxline
