#include "engine/t38_terminal.h"

#include <new>
#include <string>

namespace faxline {
namespace {

bool IsT38BitRate(int rate) {
  return rate == 2400 || rate == 4800 || rate == 7200 || rate == 9600 || rate == 12000 ||
         rate == 14400;
}

// Validates and passes the config on, so members can be built from it in order.
const T38Config& Checked(const T38Config& config) {
  ValidateT38Config(config);
  return config;
}

// The modems of `modems` that run no faster than max_bit_rate: T.30 picks the fastest modem
// both ends have, so a modem above the negotiated T38MaxBitRate must not be offered at all.
int ModemsUpTo(int modems, int max_bit_rate) {
  if (max_bit_rate < 12000) modems &= ~T30_SUPPORT_V17;  // V.17 reaches 14400
  if (max_bit_rate < 7200) modems &= ~T30_SUPPORT_V29;
  return modems;
}

}  // namespace

void ValidateT38Config(const T38Config& c) {
  if (c.version < kMinT38Version || c.version > kMaxT38Version)
    throw OptionError("T.38 version must be from 0 to 3; got " + std::to_string(c.version));
  if (!IsT38BitRate(c.max_bit_rate))
    throw OptionError("T.38 maximum bit rate must be 2400, 4800, 7200, 9600, 12000 or 14400; got " +
                      std::to_string(c.max_bit_rate));
  if (c.rate_management != kLocalTcf && c.rate_management != kTransferredTcf)
    throw OptionError("T.38 rate management must be 1 (local TCF) or 2 (transferred TCF); got " +
                      std::to_string(c.rate_management));
  if (c.max_buffer < kMinT38MaxBuffer || c.max_buffer > kMaxT38MaxBuffer)
    throw OptionError("T.38 maximum buffer must be from " + std::to_string(kMinT38MaxBuffer) +
                      " to " + std::to_string(kMaxT38MaxBuffer) + " octets; got " +
                      std::to_string(c.max_buffer));
  try {
    ValidateUdptlConfig(c.udptl);
  } catch (const UdptlConfigError& e) {
    throw OptionError(e.what());
  }
}

void ConfigureT38Core(t38_core_state_t* core, const T38Config& c) {
  t38_set_data_transport_protocol(core, T38_TRANSPORT_UDPTL);
  t38_set_t38_version(core, c.version);
  t38_set_fastest_image_data_rate(core, c.max_bit_rate);
  t38_set_data_rate_management_method(core, c.rate_management);
  t38_set_max_buffer_size(core, c.max_buffer);
  // SpanDSP sizes IFPs by this; the far end's limit is on the whole datagram, of which the
  // UDPTL framing takes a few octets (a primary alone is always sent, whatever its size).
  t38_set_max_datagram_size(core, static_cast<int>(c.udptl.max_datagram - kUdptlFramingBytes));
  t38_set_fill_bit_removal(core, c.fill_bit_removal ? 1 : 0);
  t38_set_mmr_transcoding(core, c.transcoding_mmr ? 1 : 0);
  t38_set_jbig_transcoding(core, c.transcoding_jbig ? 1 : 0);
  // UDPTL delivers IFPs with gaps where packets were lost: SpanDSP must check the numbers.
  t38_set_sequence_number_handling(core, 1);
}

T38Terminal::T38Terminal(const TerminalOptions& options, const T38Config& config)
    : config_(Checked(config)), port_(config_.udptl) {
  ValidateOptions(options);
  TerminalOptions t38_options = options;
  t38_options.modems = ModemsUpTo(options.modems, config_.max_bit_rate);
  if (t38_options.modems == 0)
    throw OptionError("none of the allowed modems runs at or below the T.38 maximum bit rate of " +
                      std::to_string(config_.max_bit_rate));
  t38_ = t38_terminal_init(nullptr, options.calling_party ? 1 : 0, &UdptlPort::TxPacketHandler,
                           &port_);
  if (t38_ == nullptr) throw std::bad_alloc();
  core_ = t38_terminal_get_t38_core_state(t38_);
  // Paced (no NO_PACING, NO_INDICATORS: those are for TCP), each indicator sent when the
  // signal changes, in the copies SpanDSP asks for (see UdptlPort::Send); UDPTL's redundancy
  // covers a lost one. Neither repeating option: in SpanDSP 0.0.6 both break calls between
  // two of its own terminals (measured: REGULAR_INDICATORS stalls phase B after TCF,
  // 2S_REPEATING_INDICATORS holds the sender on no-signal after CFR until T2 expires).
  t38_terminal_set_config(t38_, 0);
  ConfigureT38Core(core_, config_);
  t38_terminal_set_fill_bit_removal(t38_, config_.fill_bit_removal ? 1 : 0);
  try {
    StartSession(t38_terminal_get_t30_state(t38_), t38_options);
  } catch (...) {
    session_.reset();
    t38_terminal_free(t38_);
    throw;
  }
}

T38Terminal::~T38Terminal() {
  // The session points into t38_: drop it first.
  session_.reset();
  if (t38_ != nullptr) t38_terminal_free(t38_);
}

void T38Terminal::Tick(int samples) {
  t38_terminal_send_timeout(t38_, samples);
  session_->AdvanceClock(samples);
}

void T38Terminal::ReceiveDatagram(const uint8_t* datagram, size_t length) {
  port_.Receive(datagram, length, core_);
}

}  // namespace faxline
