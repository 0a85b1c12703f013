// A fax terminal: one end of a fax call, running SpanDSP's T.30 over some medium.
//
// Ownership: a Terminal owns its SpanDSP state and the T30Session bound to it; both are
// released by the destructor. Time advances only by the samples (or timer ticks) fed to
// it, so a call runs as fast as the CPU allows or paced at 20 ms by a live line.
// A Terminal is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/t30_session.h"

namespace faxline {

// Audio at 8 kHz, signed 16-bit linear, the rate SpanDSP's fax modems run at.
constexpr int kSampleRate = 8000;
// One 20 ms frame, the unit media servers and RTP work in.
constexpr int kSamplesPerFrame = 160;

class Terminal {
 public:
  virtual ~Terminal() = default;
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  T30Session& session() { return *session_; }
  const T30Session& session() const { return *session_; }

  // Ends the call as a hang-up would: phase E fires with SpanDSP's call-dropped code
  // unless the call has already finished.
  void HangUp() { session_->HangUp(); }

 protected:
  Terminal() = default;
  // Makes session_ over `t30` (the subclass's SpanDSP state) and checks at once what the call
  // will need: the document to send, or a folder to receive into. A check that fails finishes
  // the session before it starts, with the cause. Throws what T30Session's constructor throws.
  void StartSession(t30_state_t* t30, const TerminalOptions& options);

  std::unique_ptr<T30Session> session_;
};

}  // namespace faxline
