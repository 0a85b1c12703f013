// A fax terminal over an audio line (SpanDSP fax_state_t): 8 kHz signed 16-bit samples in,
// the same out. Transmit-on-idle is on, so Transmit always fills the frame and the line
// never starves.
//
// Ownership: owns the fax_state_t (freed by the destructor) and the T30Session bound to it.
#pragma once

#include <cstdint>
#include <memory>

#include "engine/terminal.h"

namespace faxline {

class AudioTerminal final : public Terminal {
 public:
  // Throws OptionError for invalid options, std::bad_alloc when SpanDSP cannot allocate.
  explicit AudioTerminal(const TerminalOptions& options);
  ~AudioTerminal() override;

  // Feeds received line audio; advances the call's clock by count samples.
  void Receive(const int16_t* samples, int count);
  // Tells the modems count samples were lost (a missing packet); advances the clock too.
  void ReceiveMissing(int count);
  // Writes count samples of line audio to send into out.
  void Transmit(int16_t* out, int count);

 private:
  fax_state_t* fax_ = nullptr;
};

}  // namespace faxline
