// The UDPTL side of a T.38 entity (terminal or gateway): SpanDSP's T.38 core hands it IFP
// packets to send, which it frames as UDPTL datagrams into a fixed outbox; received
// datagrams are unframed and each IFP handed to the core with its sequence number.
//
// Ownership: owns the Udptl and the outbox, both sized once at construction, so sending and
// receiving allocate nothing (a real-time path). Does not own the t38_core_state_t given to
// Receive. Used by one thread at a time.
#pragma once

#include <spandsp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/udptl.h"

namespace faxline {

// Datagrams the outbox holds between two takes: a 20 ms tick makes one to three (an image
// packet, or an indicator and its repeats); 64 leaves room for a host that takes late.
constexpr size_t kOutboxDatagrams = 64;
// SpanDSP asks for some packets (indicators, the ends of HDLC frames) to be sent more than
// once; beyond 3 copies a repeat adds no protection worth the bandwidth.
constexpr int kMaxPacketRepeats = 3;
// What UDPTL adds around a primary IFP before any error recovery: the sequence number (2),
// the IFP's length determinant (at most 2) and the error-recovery choice with its count (2).
constexpr size_t kUdptlFramingBytes = 6;

class UdptlPort {
 public:
  // Throws UdptlConfigError for an invalid config.
  explicit UdptlPort(const UdptlConfig& config);

  // SpanDSP's t38_tx_packet_handler_t: user_data is the UdptlPort.
  static int TxPacketHandler(t38_core_state_t* core, void* user_data, const uint8_t* buf, int len,
                             int count);

  // Frames one IFP as the next datagram and queues it count times (at least once, at most
  // kMaxPacketRepeats). Repeats are copies of the one datagram, sequence number included: a
  // receiver keeps the first copy that arrives and drops the others as duplicates, so a repeat
  // protects against loss and can never be taken for new data. Overflow is counted.
  void Send(const uint8_t* ifp, size_t length, int count);

  // Parses one received datagram and hands every IFP it yields to core, in sequence order.
  // Malformed datagrams are counted by the Udptl and dropped.
  void Receive(const uint8_t* datagram, size_t length, t38_core_state_t* core);

  // The datagrams queued since the last Take, and marks them taken: the next Send starts the
  // outbox over. Datagram i is Datagram(i), DatagramLength(i) bytes long.
  size_t Take();
  // How many datagrams the next Take would hand over, without taking them.
  size_t pending() const { return taken_ ? 0 : count_; }
  const uint8_t* Datagram(size_t i) const { return &outbox_[i * kMaxDatagramBytes]; }
  size_t DatagramLength(size_t i) const { return lengths_[i]; }

  Udptl& udptl() { return udptl_; }
  const Udptl& udptl() const { return udptl_; }
  // Datagrams dropped because the outbox was full (the host did not take them in time).
  uint64_t outbox_overflows() const { return outbox_overflows_; }

 private:
  static void Deliver(void* context, uint16_t seq, const uint8_t* ifp, size_t length);

  Udptl udptl_;
  std::vector<uint8_t> outbox_;
  std::array<uint16_t, kOutboxDatagrams> lengths_{};
  size_t count_ = 0;
  bool taken_ = false;
  uint64_t outbox_overflows_ = 0;
};

}  // namespace faxline
