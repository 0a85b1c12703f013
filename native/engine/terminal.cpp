#include "engine/terminal.h"

#include <unistd.h>

#include <memory>
#include <string>

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

void Terminal::StartSession(t30_state_t* t30, const TerminalOptions& options) {
  session_ = std::make_unique<T30Session>(t30, options);
  if (options.direction == Direction::kSend) {
    // SpanDSP would only say "file error" once the far end answers; checking now gives the
    // same code at once, with the cause in words.
    const image::TiffCheck check = image::CheckTiffForSending(
        options.tx_file, options.first_page, options.last_page, options.decode_pages);
    if (check.code != T30_ERR_OK) session_->FailBeforeStart(check.code, check.detail);
  } else if (!CanCreateFile(options.rx_file)) {
    // SpanDSP would only find out at phase B, with no word of why.
    session_->FailBeforeStart(T30_ERR_FILEERROR,
                              "cannot create " + options.rx_file + " for the received pages");
  }
}

}  // namespace faxline
