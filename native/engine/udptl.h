// UDPTL (ITU-T T.38 Annex A): the framing that carries T.38 IFP packets over UDP, with its
// error recovery by redundancy or by forward error correction (FEC).
//
//   UDPTLPacket ::= SEQUENCE {
//     seq-number          INTEGER (0..65535),
//     primary-ifp-packet  open type (an IFP, with its length determinant),
//     error-recovery      CHOICE {
//       secondary-ifp-packets  SEQUENCE OF open type (earlier IFPs, newest first),
//       fec-info               SEQUENCE { fec-npackets INTEGER,
//                                         fec-data SEQUENCE OF OCTET STRING } } }
//
// encoded with ASN.1 aligned PER. Written from the T.38 text, not from another implementation.
//
// Ownership: a Udptl owns fixed buffers (the IFPs it sent and received recently); it allocates
// nothing after construction, so Encode and Receive may run on a real-time path. Used by one
// thread at a time. Malformed datagrams are counted and dropped, never thrown.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace faxline {

// The largest IFP packet sent or accepted (an ECM frame of 256 octets plus its framing fits
// many times over).
constexpr size_t kMaxIfpBytes = 1024;
// The largest datagram sent or accepted: one Ethernet MTU's worth of UDP payload. The far end's
// negotiated maximum (T38FaxMaxDatagram) is usually far smaller.
constexpr size_t kMaxDatagramBytes = 1500;
// Bounds of the error-recovery settings; beyond them a datagram grows without buying recovery.
constexpr int kMaxRedundancy = 7;
constexpr int kMaxFecSpan = 7;
constexpr int kMaxFecEntries = 7;
// The smallest far-end maximum datagram we accept: below it not even a V.21 HDLC IFP fits.
constexpr size_t kMinMaxDatagramBytes = 32;

enum class UdptlErrorCorrection { kNone, kRedundancy, kFec };

struct UdptlConfig {
  UdptlErrorCorrection error_correction = UdptlErrorCorrection::kRedundancy;
  // kRedundancy: earlier IFPs repeated in each datagram, newest first (fewer when the
  // datagram would exceed max_datagram).
  int redundancy = 3;
  // kFec: each datagram carries fec_entries FEC entries, each the XOR of fec_span earlier IFPs.
  int fec_span = 3;
  int fec_entries = 3;
  // The far end's maximum datagram (T38FaxMaxDatagram), from kMinMaxDatagramBytes to
  // kMaxDatagramBytes. A primary IFP alone is always sent, whatever its size.
  size_t max_datagram = 400;
};

// Throws UdptlConfigError for settings outside the bounds above.
class UdptlConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};
void ValidateUdptlConfig(const UdptlConfig& config);

struct UdptlStats {
  uint64_t sent = 0;                     // datagrams encoded
  uint64_t received = 0;                 // well-formed datagrams received
  uint64_t delivered = 0;                // IFPs handed on, primaries and recovered ones
  uint64_t recovered_by_redundancy = 0;  // lost IFPs rebuilt from secondary IFPs
  uint64_t recovered_by_fec = 0;         // lost IFPs rebuilt from FEC
  uint64_t lost = 0;                     // IFPs never received nor recovered
  uint64_t duplicates = 0;               // datagrams whose primary was already delivered
  uint64_t late = 0;                     // datagrams older than what was delivered, not duplicates
  uint64_t malformed = 0;                // datagrams that are not valid UDPTL
};

class Udptl {
 public:
  // Called once per IFP delivered, in sequence order: the primary of a datagram, or one
  // rebuilt from a later datagram's redundancy or FEC. ifp is valid only during the call.
  using Deliver = void (*)(void* context, uint16_t seq, const uint8_t* ifp, size_t length);

  // Throws UdptlConfigError (see ValidateUdptlConfig).
  explicit Udptl(const UdptlConfig& config);

  // Encodes ifp as the next datagram into out (capacity cap, at least kMaxDatagramBytes).
  // Returns the datagram's length, or 0 when ifp is longer than kMaxIfpBytes (nothing sent).
  // The first datagram has sequence number 0 (what peers expect).
  size_t Encode(const uint8_t* ifp, size_t length, uint8_t* out, size_t cap);

  // Parses one received datagram and delivers every IFP it makes available, oldest first.
  // Returns false, delivering nothing, for a malformed datagram (counted).
  bool Receive(const uint8_t* datagram, size_t length, Deliver deliver, void* context);

  // Changes the far end's maximum datagram (a re-negotiation); the bounds of the constructor.
  void set_max_datagram(size_t max_datagram);
  // The sequence number the next Encode uses; settable so tests can cross the 16-bit wrap.
  uint16_t next_sequence() const { return tx_seq_; }
  void set_next_sequence(uint16_t seq) { tx_seq_ = seq; }

  const UdptlConfig& config() const { return config_; }
  const UdptlStats& stats() const { return stats_; }

 private:
  // The recent IFPs of one direction, by sequence number modulo the ring size.
  static constexpr size_t kHistory = 64;
  struct Slot {
    bool valid = false;
    uint16_t seq = 0;
    uint16_t length = 0;
    std::array<uint8_t, kMaxIfpBytes> bytes{};
  };

  UdptlConfig config_;
  UdptlStats stats_;
  uint16_t tx_seq_ = 0;
  std::array<Slot, kHistory> sent_{};
  std::array<Slot, kHistory> received_{};
  // The sequence number of the next IFP to deliver; meaningless until the first datagram.
  bool rx_started_ = false;
  uint16_t rx_next_ = 0;
  // The ways of reading an IFP's length (udptl.cpp) that an IFP the far end sent contradicted,
  // one bit each: FEC no longer trusts them to find a rebuilt IFP's length.
  unsigned ifp_layouts_ruled_out_ = 0;
};

}  // namespace faxline
