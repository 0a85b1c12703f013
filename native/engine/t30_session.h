// The T.30 half of a fax terminal, shared by every medium (audio now, T.38 next).
//
// Ownership: a T30Session does not own the t30_state_t; the terminal that embeds it does and
// must outlive it. The session installs SpanDSP's phase B/D/E and real-time frame handlers,
// turns them into queued Events, and records the final Result. Handlers never throw: SpanDSP
// calls them from C.
#pragma once

#include <spandsp.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace faxline {

enum class Direction { kSend, kReceive };

// What the host asked for. Validated by ValidateOptions before SpanDSP sees it.
struct TerminalOptions {
  Direction direction = Direction::kSend;
  // The calling party sends CNG and waits for the answerer's DIS; usually the sender.
  bool calling_party = true;
  std::string identity;     // our TSI/CSI, T.30: at most 20 of "0-9 + space"
  std::string header_info;  // printed in the header line of sent pages, at most 50 chars
  bool ecm = true;
  int modems = T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
  int compressions =
      T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION;
  std::string tx_file;  // send: the TIFF-F to transmit
  int first_page = 1;   // send: 1-based, inclusive
  int last_page = 0;    // send: 1-based, inclusive; 0 = to the end
  // send: decode every page when the terminal is made (see image::CheckTiffForSending);
  // false when they were decoded before, so making a terminal on a real-time thread is cheap.
  bool decode_pages = true;
  std::string rx_file;  // receive: where received pages are written as TIFF-F
};

// A rejected option. The bindings turn it into a RangeError.
class OptionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

constexpr size_t kMaxIdentityLength = T30_MAX_IDENT_LEN;
constexpr size_t kMaxHeaderInfoLength = T30_MAX_PAGE_HEADER_INFO;

void ValidateOptions(const TerminalOptions& options);

// A snapshot of SpanDSP's transfer statistics plus what the far end told us about itself.
struct TransferStats {
  int bit_rate = 0;
  bool ecm = false;
  int pages_transferred = 0;  // confirmed by the receiver (send) or received (receive)
  int pages_in_file = 0;
  int x_resolution = 0;  // pixels per metre, as SpanDSP reports it
  int y_resolution = 0;
  int width = 0;
  int length = 0;
  int image_size = 0;
  int encoding = 0;  // a T4_COMPRESSION_ITU_* value
  int bad_rows = 0;
  int longest_bad_row_run = 0;
  int ecm_retries = 0;
  std::string remote_identity;
  std::string remote_country;
  std::string remote_vendor;
  std::string remote_model;
};

struct FaxResult {
  int code = T30_ERR_OK;  // SpanDSP's T.30 completion code
  std::string text;       // SpanDSP's text for it
  int pages = 0;          // pages confirmed (send) or received (receive)
  std::string detail;     // the cause in words when known (e.g. why a TIFF cannot be sent)
  TransferStats stats;
  bool success() const { return code == T30_ERR_OK; }
};

// Long enough for every T.30 control frame (DIS with all extensions, NSF of real machines);
// longer frames are kept truncated so tracing never allocates.
constexpr size_t kMaxTracedFrameBytes = 128;

enum class EventType {
  kNegotiated,  // phase B: DIS/DCS exchanged
  kPage,        // phase D: a page confirmed (send) or received (receive)
  kFinished,    // phase E: the call is over, exactly once
  kFrame,       // a T.30 control frame sent or received (image frames are not traced)
};

struct Event {
  EventType type = EventType::kFrame;
  int64_t sample_time = 0;  // samples since the session started
  int page = 0;             // kPage: pages transferred so far
  int code = 0;             // kNegotiated: the frame type; kFinished: the completion code
  TransferStats stats;      // kNegotiated, kPage, kFinished
  bool frame_incoming = false;
  uint8_t frame_type = 0;  // the FCF byte, X bit included
  uint16_t frame_length = 0;
  std::array<uint8_t, kMaxTracedFrameBytes> frame{};
};

// Whether a T.30 frame as SpanDSP hands it to a frame handler (address, control, FCF, ...)
// goes into the trace: ECM image data (FCD) and its end marker (RCP) are part of the page, not
// the protocol, and tracing them would flood the trace and allocate per frame.
bool IsTracedFrame(const uint8_t* msg, int len);
// Copies a traced frame into e's frame_type, frame_length and frame, cut at
// kMaxTracedFrameBytes.
void SetTracedFrame(Event& e, const uint8_t* msg, int len);

class T30Session {
 public:
  // Binds to t30 (owned by the caller) and applies the options.
  T30Session(t30_state_t* t30, const TerminalOptions& options);
  T30Session(const T30Session&) = delete;
  T30Session& operator=(const T30Session&) = delete;

  const TerminalOptions& options() const { return options_; }
  bool finished() const { return finished_; }
  const FaxResult& result() const { return result_; }
  int64_t elapsed_samples() const { return elapsed_samples_; }
  void AdvanceClock(int samples) { elapsed_samples_ += samples; }
  // Carries on where `earlier` (the same call on another medium, now abandoned) left off:
  // its clock, and its events not yet taken, queued before any of this session's own.
  void ContinueFrom(T30Session& earlier);

  size_t pending_events() const { return events_.size(); }
  // Moves the queued events into out (cleared first) so the caller owns them.
  void TakeEvents(std::vector<Event>& out);

  void HangUp();
  // Finishes the call without running it, for a failure found before the modem starts
  // (a document SpanDSP could not send): the result and the kFinished event as SpanDSP would.
  void FailBeforeStart(int code, const std::string& detail);

 private:
  static int OnPhaseB(t30_state_t* t30, void* user_data, int frame_type);
  static int OnPhaseD(t30_state_t* t30, void* user_data, int frame_type);
  static void OnPhaseE(t30_state_t* t30, void* user_data, int completion_code);
  static void OnFrame(t30_state_t* t30, void* user_data, int incoming, const uint8_t* msg, int len);

  TransferStats ReadStats() const;
  Event& PushEvent(EventType type);
  void Finish(int code);

  t30_state_t* t30_;
  TerminalOptions options_;
  FaxResult result_;
  bool finished_ = false;
  int pages_reported_ = 0;
  int64_t elapsed_samples_ = 0;
  std::vector<Event> events_;
};

// SpanDSP's text for a completion code, read from the library.
std::string CompletionCodeText(int code);
// The highest completion code this SpanDSP defines.
constexpr int kLastCompletionCode = T30_ERR_CSA_UNACCEPTABLE;

}  // namespace faxline
