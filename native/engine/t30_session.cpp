#include "engine/t30_session.h"

#include <algorithm>
#include <cstring>

namespace faxline {
namespace {

// T.30 identities are carried as digits, '+' and space (T.30 5.3.6.2.4).
bool IsIdentityChar(char c) { return (c >= '0' && c <= '9') || c == '+' || c == ' '; }

bool IsPrintableAscii(char c) { return c >= 0x20 && c <= 0x7E; }

constexpr int kAllModems = T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
constexpr int kAllCompressions =
    T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION | T30_SUPPORT_T6_COMPRESSION;

std::string OrEmpty(const char* s) { return s ? std::string(s) : std::string(); }

}  // namespace

bool IsTracedFrame(const uint8_t* msg, int len) {
  if (msg == nullptr || len < 3) return false;
  const uint8_t base = msg[2] & 0xFE;  // the FCF without its X bit
  return base != T4_FCD && base != T4_RCP;
}

void SetTracedFrame(Event& e, const uint8_t* msg, int len) {
  e.frame_type = msg[2];
  e.frame_length = static_cast<uint16_t>(std::min<size_t>(len, kMaxTracedFrameBytes));
  std::memcpy(e.frame.data(), msg, e.frame_length);
}

void ValidateOptions(const TerminalOptions& o) {
  if (o.identity.size() > kMaxIdentityLength)
    throw OptionError("identity is " + std::to_string(o.identity.size()) +
                      " characters; T.30 allows at most 20");
  for (char c : o.identity)
    if (!IsIdentityChar(c))
      throw OptionError("identity may contain only digits, '+' and space (T.30); got '" +
                        o.identity + "'");
  if (o.header_info.size() > kMaxHeaderInfoLength)
    throw OptionError("header_info is " + std::to_string(o.header_info.size()) +
                      " characters; at most 50 fit the header line");
  for (char c : o.header_info)
    if (!IsPrintableAscii(c))
      throw OptionError("header_info may contain only printable ASCII characters");
  if (o.modems == 0 || (o.modems & ~kAllModems) != 0)
    throw OptionError("modems must be a non-empty set of V.17, V.29 and V.27ter");
  if (o.compressions == 0 || (o.compressions & ~kAllCompressions) != 0)
    throw OptionError("compressions must be a non-empty set of T.4 1D, T.4 2D and T.6");
  if (o.compressions == T30_SUPPORT_T6_COMPRESSION && !o.ecm)
    throw OptionError("T.6 compression needs ECM; enable ECM or allow a T.4 compression");
  if (o.direction == Direction::kSend) {
    if (o.tx_file.empty()) throw OptionError("a sending terminal needs a TIFF-F file to send");
    if (o.first_page < 1) throw OptionError("first page must be 1 or more");
    if (o.last_page != 0 && o.last_page < o.first_page)
      throw OptionError("last page must be 0 (to the end) or not before the first page");
  } else if (o.rx_file.empty()) {
    throw OptionError("a receiving terminal needs a file to write received pages to");
  }
}

T30Session::T30Session(t30_state_t* t30, const TerminalOptions& options)
    : t30_(t30), options_(options) {
  // Events are rare (a few dozen per call): reserving once keeps the per-frame path
  // free of allocation in steady state.
  events_.reserve(64);
  if (!options_.identity.empty()) t30_set_tx_ident(t30_, options_.identity.c_str());
  if (!options_.header_info.empty())
    t30_set_tx_page_header_info(t30_, options_.header_info.c_str());
  t30_set_ecm_capability(t30_, options_.ecm ? 1 : 0);
  t30_set_supported_modems(t30_, options_.modems);
  t30_set_supported_compressions(t30_, options_.compressions);
  // SpanDSP's defaults leave out sizes and resolutions a TIFF may legitimately carry (B4/A3
  // widths, inch-based resolutions); allow all it can code, so what CheckTiffForSending
  // accepts is what the call can send.
  t30_set_supported_resolutions(
      t30_, T30_SUPPORT_STANDARD_RESOLUTION | T30_SUPPORT_FINE_RESOLUTION |
                T30_SUPPORT_SUPERFINE_RESOLUTION | T30_SUPPORT_R8_RESOLUTION |
                T30_SUPPORT_R16_RESOLUTION | T30_SUPPORT_300_300_RESOLUTION |
                T30_SUPPORT_400_400_RESOLUTION | T30_SUPPORT_600_600_RESOLUTION |
                T30_SUPPORT_1200_1200_RESOLUTION | T30_SUPPORT_300_600_RESOLUTION |
                T30_SUPPORT_400_800_RESOLUTION | T30_SUPPORT_600_1200_RESOLUTION);
  t30_set_supported_image_sizes(t30_, T30_SUPPORT_US_LETTER_LENGTH | T30_SUPPORT_US_LEGAL_LENGTH |
                                          T30_SUPPORT_UNLIMITED_LENGTH | T30_SUPPORT_215MM_WIDTH |
                                          T30_SUPPORT_255MM_WIDTH | T30_SUPPORT_303MM_WIDTH |
                                          T30_SUPPORT_A4_LENGTH | T30_SUPPORT_B4_LENGTH);
  if (options_.direction == Direction::kSend) {
    // SpanDSP counts pages from 0; -1 means no limit.
    t30_set_tx_file(t30_, options_.tx_file.c_str(), options_.first_page - 1,
                    options_.last_page == 0 ? -1 : options_.last_page - 1);
  } else {
    t30_set_rx_file(t30_, options_.rx_file.c_str(), -1);
  }
  t30_set_phase_b_handler(t30_, &T30Session::OnPhaseB, this);
  t30_set_phase_d_handler(t30_, &T30Session::OnPhaseD, this);
  t30_set_phase_e_handler(t30_, &T30Session::OnPhaseE, this);
  t30_set_real_time_frame_handler(t30_, &T30Session::OnFrame, this);
}

void T30Session::TakeEvents(std::vector<Event>& out) {
  out.clear();
  out.swap(events_);
  events_.reserve(64);
}

void T30Session::ContinueFrom(T30Session& earlier) {
  for (Event& e : events_) e.sample_time += earlier.elapsed_samples_;
  elapsed_samples_ += earlier.elapsed_samples_;
  std::vector<Event> merged;
  merged.reserve(std::max<size_t>(64, earlier.events_.size() + events_.size()));
  merged.insert(merged.end(), earlier.events_.begin(), earlier.events_.end());
  merged.insert(merged.end(), events_.begin(), events_.end());
  events_.swap(merged);
  earlier.events_.clear();
}

void T30Session::HangUp() {
  if (finished_) return;
  // SpanDSP reports the hang-up through phase E with its call-dropped code.
  t30_terminate(t30_);
  // A session that had not started its call yet gets no phase E from SpanDSP.
  if (!finished_) Finish(T30_ERR_CALLDROPPED);
}

void T30Session::FailBeforeStart(int code, const std::string& detail) {
  if (finished_) return;
  result_.detail = detail;
  Finish(code);
  // Stop SpanDSP's own call too (its phase E is ignored now): left running, it would still
  // answer a DIS by opening the document, sending pages our result says were not sent, and
  // leaking libtiff's handle when the first page is past the end (t4_tx_init in 0.0.6).
  t30_terminate(t30_);
}

TransferStats T30Session::ReadStats() const {
  t30_stats_t raw;
  std::memset(&raw, 0, sizeof(raw));
  t30_get_transfer_statistics(t30_, &raw);
  TransferStats s;
  s.bit_rate = raw.bit_rate;
  s.ecm = raw.error_correcting_mode != 0;
  s.pages_transferred = options_.direction == Direction::kSend ? raw.pages_tx : raw.pages_rx;
  s.pages_in_file = raw.pages_in_file;
  s.x_resolution = raw.x_resolution;
  s.y_resolution = raw.y_resolution;
  s.width = raw.width;
  s.length = raw.length;
  s.image_size = raw.image_size;
  s.encoding = raw.encoding;
  s.bad_rows = raw.bad_rows;
  s.longest_bad_row_run = raw.longest_bad_row_run;
  s.ecm_retries = raw.error_correcting_mode_retries;
  s.remote_identity = OrEmpty(t30_get_rx_ident(t30_));
  s.remote_country = OrEmpty(t30_get_rx_country(t30_));
  s.remote_vendor = OrEmpty(t30_get_rx_vendor(t30_));
  s.remote_model = OrEmpty(t30_get_rx_model(t30_));
  return s;
}

Event& T30Session::PushEvent(EventType type) {
  events_.emplace_back();
  Event& e = events_.back();
  e.type = type;
  e.sample_time = elapsed_samples_;
  return e;
}

void T30Session::Finish(int code) {
  finished_ = true;
  result_.code = code;
  result_.text = CompletionCodeText(code);
  result_.stats = ReadStats();
  result_.pages = std::max(pages_reported_, result_.stats.pages_transferred);
  Event& e = PushEvent(EventType::kFinished);
  e.code = code;
  e.stats = result_.stats;
  e.page = result_.pages;
}

int T30Session::OnPhaseB(t30_state_t*, void* user_data, int frame_type) {
  auto* self = static_cast<T30Session*>(user_data);
  try {
    Event& e = self->PushEvent(EventType::kNegotiated);
    e.code = frame_type;
    e.stats = self->ReadStats();
  } catch (...) {
    // Out of memory while queueing: the call goes on, only the event is lost.
  }
  return T30_ERR_OK;
}

int T30Session::OnPhaseD(t30_state_t*, void* user_data, int) {
  auto* self = static_cast<T30Session*>(user_data);
  try {
    TransferStats stats = self->ReadStats();
    // Phase D also fires for pages the receiver rejected (RTN) and retransmitted: only a
    // rise in SpanDSP's own page count is a page confirmed.
    while (self->pages_reported_ < stats.pages_transferred) {
      ++self->pages_reported_;
      Event& e = self->PushEvent(EventType::kPage);
      e.page = self->pages_reported_;
      e.stats = stats;
    }
  } catch (...) {
  }
  return T30_ERR_OK;
}

void T30Session::OnPhaseE(t30_state_t*, void* user_data, int completion_code) {
  auto* self = static_cast<T30Session*>(user_data);
  if (self->finished_) return;
  try {
    self->Finish(completion_code);
  } catch (...) {
    self->finished_ = true;
    self->result_.code = completion_code;
  }
}

void T30Session::OnFrame(t30_state_t*, void* user_data, int incoming, const uint8_t* msg, int len) {
  auto* self = static_cast<T30Session*>(user_data);
  if (!IsTracedFrame(msg, len)) return;
  try {
    Event& e = self->PushEvent(EventType::kFrame);
    e.frame_incoming = incoming != 0;
    SetTracedFrame(e, msg, len);
  } catch (...) {
  }
}

std::string CompletionCodeText(int code) { return OrEmpty(t30_completion_code_to_str(code)); }

}  // namespace faxline
