// A fax terminal over T.38 (SpanDSP t38_terminal_state_t): IFP packets framed as UDPTL
// datagrams instead of modem audio. Driven by ticks (t38_terminal_send_timeout), normally one
// per 20 ms; transmission is paced by those ticks as a live UDP path needs.
//
// Ownership: owns the t38_terminal_state_t (freed by the destructor), the T30Session bound to
// its T.30 engine, and the UdptlPort its packets go through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "engine/terminal.h"
#include "engine/udptl.h"
#include "engine/udptl_port.h"

namespace faxline {

// SpanDSP's names for the two data rate management methods (T.38 clause 8.x, and the SDP
// attribute T38FaxRateManagement: localTCF / transferredTCF).
constexpr int kLocalTcf = T38_DATA_RATE_MANAGEMENT_LOCAL_TCF;
constexpr int kTransferredTcf = T38_DATA_RATE_MANAGEMENT_TRANSFERRED_TCF;

// The T.38 settings of one side, as negotiated in SDP (T38Fax* attributes).
struct T38Config {
  int version = 0;                        // T38FaxVersion, 0..3
  int max_bit_rate = 14400;               // T38MaxBitRate: 2400, 4800, 7200, 9600, 12000 or 14400
  int rate_management = kTransferredTcf;  // T.38 requires transferred TCF over UDP
  // T38FaxMaxBuffer: the far end's receive buffer for image data, octets. T.38 gives no
  // default; 2000 holds over a second of 14400 bit/s data.
  int max_buffer = 2000;
  bool fill_bit_removal = false;
  bool transcoding_mmr = false;
  bool transcoding_jbig = false;
  UdptlConfig udptl;  // error correction and the far end's maximum datagram
};

constexpr int kMinT38Version = 0;
constexpr int kMaxT38Version = 3;
constexpr int kMinT38MaxBuffer = 64;
constexpr int kMaxT38MaxBuffer = 1 << 20;

// Throws OptionError (as ValidateOptions does) for a setting T.38 or SpanDSP does not allow.
void ValidateT38Config(const T38Config& config);

// Applies the settings to a T.38 core (of a terminal or a gateway).
void ConfigureT38Core(t38_core_state_t* core, const T38Config& config);

class T38Terminal final : public Terminal {
 public:
  // Throws OptionError for invalid options or config, std::bad_alloc when SpanDSP cannot
  // allocate.
  T38Terminal(const TerminalOptions& options, const T38Config& config);
  ~T38Terminal() override;

  const T38Config& config() const { return config_; }

  // Advances the call's clock by samples (8 kHz) and lets SpanDSP send what is due by then
  // into the port's outbox.
  void Tick(int samples);
  // Hands one received UDPTL datagram to SpanDSP; a malformed one is counted and dropped.
  void ReceiveDatagram(const uint8_t* datagram, size_t length);

  UdptlPort& port() { return port_; }
  const UdptlPort& port() const { return port_; }

 private:
  T38Config config_;
  UdptlPort port_;
  t38_terminal_state_t* t38_ = nullptr;
  t38_core_state_t* core_ = nullptr;
};

}  // namespace faxline
