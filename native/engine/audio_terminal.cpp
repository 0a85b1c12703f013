#include "engine/audio_terminal.h"

#include <unistd.h>

#include <algorithm>
#include <new>

#include "image/tiff_io.h"

namespace faxline {
namespace {

// Whether the folder of path exists and is writable: SpanDSP creates the file at phase B.
bool CanCreateFile(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  const std::string folder =
      slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  return access(folder.c_str(), W_OK | X_OK) == 0;
}

}  // namespace

AudioTerminal::AudioTerminal(const TerminalOptions& options) {
  ValidateOptions(options);
  fax_ = fax_init(nullptr, options.calling_party ? 1 : 0);
  if (fax_ == nullptr) throw std::bad_alloc();
  fax_set_transmit_on_idle(fax_, 1);
  try {
    session_ = std::make_unique<T30Session>(fax_get_t30_state(fax_), options);
    if (options.direction == Direction::kSend) {
      // SpanDSP would only say "file error" once the far end answers; checking now gives
      // the same code at once, with the cause in words.
      const image::TiffCheck check = image::CheckTiffForSending(
          options.tx_file, options.first_page, options.last_page, options.decode_pages);
      if (check.code != T30_ERR_OK) session_->FailBeforeStart(check.code, check.detail);
    } else if (!CanCreateFile(options.rx_file)) {
      // SpanDSP would only find out at phase B, with no word of why.
      session_->FailBeforeStart(T30_ERR_FILEERROR,
                                "cannot create " + options.rx_file + " for the received pages");
    }
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
