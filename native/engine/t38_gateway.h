// A T.38 gateway (SpanDSP t38_gateway_state_t): bridges an audio leg (8 kHz fax modem audio,
// e.g. a G.711 caller) and a T.38 leg (UDPTL datagrams, e.g. a T.38 trunk). It relays the
// fax without terminating it: there is no T.30 session of ours, only the frames it sees.
//
// Time advances by the audio fed to it: each Receive/ReceiveMissing moves the gateway's
// clock, and the T.38 packets due by then are framed into the port's outbox. There is no
// separate tick.
//
// Ownership: owns the t38_gateway_state_t (freed by the destructor) and the UdptlPort its
// packets go through. Used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/t30_session.h"
#include "engine/t38_terminal.h"
#include "engine/udptl_port.h"

namespace faxline {

struct T38GatewayOptions {
  T38Config t38;
  bool ecm = true;  // let the two fax machines use ECM through the gateway
  int modems = T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER;
};

// Throws OptionError.
void ValidateT38GatewayOptions(const T38GatewayOptions& options);

// SpanDSP's t38_stats_t: what the gateway saw of the fax passing through.
struct T38GatewayStats {
  int bit_rate = 0;
  bool ecm = false;
  int pages_transferred = 0;
};

class T38Gateway {
 public:
  // Throws OptionError for invalid options, std::bad_alloc when SpanDSP cannot allocate.
  explicit T38Gateway(const T38GatewayOptions& options);
  ~T38Gateway();
  T38Gateway(const T38Gateway&) = delete;
  T38Gateway& operator=(const T38Gateway&) = delete;

  // The audio leg, as AudioTerminal: received audio (or a missing frame) advances the clock.
  void Receive(const int16_t* samples, int count);
  void ReceiveMissing(int count);
  // Writes count samples of audio for the audio leg; silence when idle.
  void Transmit(int16_t* out, int count);

  // The T.38 leg: one received UDPTL datagram; a malformed one is counted and dropped.
  void ReceiveDatagram(const uint8_t* datagram, size_t length);
  UdptlPort& port() { return port_; }
  const UdptlPort& port() const { return port_; }

  const T38GatewayOptions& options() const { return options_; }
  T38GatewayStats stats() const;
  int64_t elapsed_samples() const { return elapsed_samples_; }

  // kFrame events: the T.30 control frames relayed, frame_incoming true for a frame that came
  // in from the T.38 leg (and went out on the audio leg), false for one from the audio leg.
  size_t pending_events() const { return events_.size(); }
  // Moves the queued events into out (cleared first) so the caller owns them.
  void TakeEvents(std::vector<Event>& out);

 private:
  static void OnFrame(t38_gateway_state_t* s, void* user_data, int direction, const uint8_t* msg,
                      int len);

  T38GatewayOptions options_;
  UdptlPort port_;
  t38_gateway_state_t* gateway_ = nullptr;
  t38_core_state_t* core_ = nullptr;
  int64_t elapsed_samples_ = 0;
  std::vector<Event> events_;
};

}  // namespace faxline
