#include "engine/audio_terminal.h"

#include <algorithm>
#include <new>

namespace faxline {

AudioTerminal::AudioTerminal(const TerminalOptions& options) {
  ValidateOptions(options);
  fax_ = fax_init(nullptr, options.calling_party ? 1 : 0);
  if (fax_ == nullptr) throw std::bad_alloc();
  fax_set_transmit_on_idle(fax_, 1);
  try {
    StartSession(fax_get_t30_state(fax_), options);
  } catch (...) {
    session_.reset();
    fax_free(fax_);
    throw;
  }
}

AudioTerminal::~AudioTerminal() {
  // The session points into fax_: drop it first.
  session_.reset();
  if (fax_ != nullptr) fax_free(fax_);
}

void AudioTerminal::Receive(const int16_t* samples, int count) {
  // fax_rx takes a non-const pointer but only reads the samples.
  fax_rx(fax_, const_cast<int16_t*>(samples), count);
  session_->AdvanceClock(count);
}

void AudioTerminal::ReceiveMissing(int count) {
  fax_rx_fillin(fax_, count);
  session_->AdvanceClock(count);
}

void AudioTerminal::Transmit(int16_t* out, int count) {
  const int written = fax_tx(fax_, out, count);
  if (written < count) std::fill(out + std::max(written, 0), out + count, int16_t{0});
}

}  // namespace faxline
