// UDPTL (T.38 Annex A) without Node: datagrams worked out by hand from the ASN.1 and aligned
// PER, recovery by redundancy and FEC, the 16-bit wrap, duplicates and late datagrams, every
// class of malformed datagram and a fuzz loop.
//
// Build by hand (one line):
//   g++ -std=c++17 -Inative test/cpp/udptl_test.cpp native/engine/udptl.cpp
// Exits non-zero and names every failed expectation.

#include "engine/udptl.h"

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "harness.h"

using faxline::kMaxDatagramBytes;
using faxline::Udptl;
using faxline::UdptlConfig;
using faxline::UdptlConfigError;
using faxline::UdptlErrorCorrection;
using faxline::test::Expect;
using faxline::test::Run;
using faxline::test::Str;
using faxline::test::ThrownMessage;

namespace {

using Bytes = std::vector<uint8_t>;

struct Delivery {
  uint16_t seq;
  Bytes ifp;
  bool operator==(const Delivery& o) const { return seq == o.seq && ifp == o.ifp; }
};
using Deliveries = std::vector<Delivery>;

std::string Hex(const Bytes& b) {
  static const char* kDigits = "0123456789abcdef";
  std::string s;
  for (uint8_t x : b) {
    if (!s.empty()) s += ' ';
    s += kDigits[x >> 4];
    s += kDigits[x & 15];
  }
  return s;
}

UdptlConfig Config(UdptlErrorCorrection ec, int redundancy = 3, int span = 3, int entries = 3,
                   size_t max_datagram = 400) {
  UdptlConfig c;
  c.error_correction = ec;
  c.redundancy = redundancy;
  c.fec_span = span;
  c.fec_entries = entries;
  c.max_datagram = max_datagram;
  return c;
}

Bytes Encode(Udptl& u, const Bytes& ifp) {
  Bytes out(kMaxDatagramBytes);
  const size_t n = u.Encode(ifp.data(), ifp.size(), out.data(), out.size());
  out.resize(n);
  return out;
}

void Collect(void* context, uint16_t seq, const uint8_t* ifp, size_t length) {
  static_cast<Deliveries*>(context)->push_back({seq, Bytes(ifp, ifp + length)});
}

// Receives one datagram; returns what it delivered.
Deliveries Receive(Udptl& u, const Bytes& datagram, bool* ok = nullptr) {
  Deliveries d;
  const bool r = u.Receive(datagram.data(), datagram.size(), Collect, &d);
  if (ok != nullptr) *ok = r;
  return d;
}

void ExpectBytes(const Bytes& got, const Bytes& want, const std::string& what) {
  Expect(got == want, what + ": got [" + Hex(got) + "], want [" + Hex(want) + "]");
}

void ExpectDeliveries(const Deliveries& got, const Deliveries& want, const std::string& what) {
  std::string g, w;
  for (const auto& d : got) g += " " + Str(d.seq) + ":[" + Hex(d.ifp) + "]";
  for (const auto& d : want) w += " " + Str(d.seq) + ":[" + Hex(d.ifp) + "]";
  Expect(got == want, what + ": got" + g + ", want" + w);
}

void ExpectStat(uint64_t got, uint64_t want, const std::string& what) {
  Expect(got == want, what + " = " + Str(got) + ", want " + Str(want));
}

Bytes Filled(size_t n, uint8_t first) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(first + i);
  return b;
}

// ---------------------------------------------------------------------------------------
// Hand-worked encodings

void FirstDatagram() {
  Udptl u(Config(UdptlErrorCorrection::kRedundancy));
  // seq-number 0: 00 00 | primary, open type of 3 octets: determinant 03, then 06 12 34 |
  // error-recovery CHOICE index 0 (secondary-ifp-packets) in the top bit, padded: 00 |
  // SEQUENCE OF count 0 as a length determinant: 00.
  ExpectBytes(Encode(u, {0x06, 0x12, 0x34}), {0x00, 0x00, 0x03, 0x06, 0x12, 0x34, 0x00, 0x00},
              "seq 0, 3-octet IFP");
  Expect(u.next_sequence() == 1, "the next sequence number is 1");
  Udptl v(Config(UdptlErrorCorrection::kRedundancy));
  Deliveries d = Receive(v, {0x00, 0x00, 0x03, 0x06, 0x12, 0x34, 0x00, 0x00});
  ExpectDeliveries(d, {{0, {0x06, 0x12, 0x34}}}, "decoded");
}

void LengthDeterminants() {
  // 127 octets: one-octet determinant 0x7f (0xxxxxxx holds 0..127).
  {
    Udptl u(Config(UdptlErrorCorrection::kNone));
    const Bytes ifp = Filled(127, 1);
    Bytes want = {0x00, 0x00, 0x7F};
    want.insert(want.end(), ifp.begin(), ifp.end());
    want.insert(want.end(), {0x00, 0x00});
    ExpectBytes(Encode(u, ifp), want, "127-octet IFP");
    Udptl v(Config(UdptlErrorCorrection::kNone));
    ExpectDeliveries(Receive(v, want), {{0, ifp}}, "127-octet IFP decoded");
  }
  // 128 octets: two octets 10xxxxxx xxxxxxxx with the value 128 = 0x0080: 80 80.
  // 300 octets: 300 = 0x012c: 10 000001, 00101100 = 81 2c.
  for (const auto& [n, det] :
       std::vector<std::pair<size_t, Bytes>>{{128, {0x80, 0x80}}, {300, {0x81, 0x2C}}}) {
    Udptl u(Config(UdptlErrorCorrection::kNone));
    const Bytes ifp = Filled(n, 7);
    Bytes want = {0x00, 0x00};
    want.insert(want.end(), det.begin(), det.end());
    want.insert(want.end(), ifp.begin(), ifp.end());
    want.insert(want.end(), {0x00, 0x00});
    ExpectBytes(Encode(u, ifp), want, Str(n) + "-octet IFP");
    Udptl v(Config(UdptlErrorCorrection::kNone));
    ExpectDeliveries(Receive(v, want), {{0, ifp}}, Str(n) + "-octet IFP decoded");
  }
}

void EmptyIfp() {
  Udptl u(Config(UdptlErrorCorrection::kRedundancy));
  // seq 0: 00 00 | an open type of length 0: 00 | CHOICE 00 | count 00.
  ExpectBytes(Encode(u, {}), {0x00, 0x00, 0x00, 0x00, 0x00}, "empty IFP");
  Udptl v(Config(UdptlErrorCorrection::kRedundancy));
  ExpectDeliveries(Receive(v, {0x00, 0x00, 0x00, 0x00, 0x00}), {{0, {}}}, "empty IFP decoded");
}

void TwoSecondaries() {
  Udptl u(Config(UdptlErrorCorrection::kRedundancy));
  Encode(u, {0xA1});
  Encode(u, {0xB1, 0xB2});
  // seq 2: 00 02 | primary 03 c1 c2 c3 | CHOICE 00 | count 02 | the secondaries newest first:
  // seq 1 as 02 b1 b2, then seq 0 as 01 a1.
  const Bytes want = {0x00, 0x02, 0x03, 0xC1, 0xC2, 0xC3, 0x00, 0x02, 0x02, 0xB1, 0xB2, 0x01, 0xA1};
  ExpectBytes(Encode(u, {0xC1, 0xC2, 0xC3}), want, "seq 2 with 2 secondaries");
  // Decoding it as the first datagram anchors at 2: the secondaries are older than the anchor.
  Udptl v(Config(UdptlErrorCorrection::kRedundancy));
  ExpectDeliveries(Receive(v, want), {{2, {0xC1, 0xC2, 0xC3}}}, "anchored on seq 2");
  // After seq 0 was received, seq 1 is rebuilt from the first secondary.
  Udptl w(Config(UdptlErrorCorrection::kRedundancy));
  Receive(w, {0x00, 0x00, 0x01, 0xA1, 0x00, 0x00});
  ExpectDeliveries(Receive(w, want), {{1, {0xB1, 0xB2}}, {2, {0xC1, 0xC2, 0xC3}}},
                   "seq 1 rebuilt, then seq 2");
  ExpectStat(w.stats().recovered_by_redundancy, 1, "recovered by redundancy");
}

// The FEC stream used below: span 2, 2 entries, and these five IFPs.
const std::vector<Bytes> kFecIfps = {{0x11}, {0x22, 0x33}, {0x44, 0x55, 0x66}, {0x77}, {0x88}};

std::vector<Bytes> FecStream() {
  Udptl u(Config(UdptlErrorCorrection::kFec, 3, 2, 2));
  std::vector<Bytes> out;
  for (const Bytes& ifp : kFecIfps) out.push_back(Encode(u, ifp));
  return out;
}

void FecDatagrams() {
  const std::vector<Bytes> d = FecStream();
  // seq 0: no earlier IFP, so no entries: 00 00 | 01 11 | CHOICE 80 (fec-info) |
  // fec-npackets 2 as an unconstrained INTEGER: length 01, value 02 | fec-data count 00.
  ExpectBytes(d[0], {0x00, 0x00, 0x01, 0x11, 0x80, 0x01, 0x02, 0x00}, "seq 0");
  // seq 1: one earlier IFP < span 2: still no entries.
  ExpectBytes(d[1], {0x00, 0x01, 0x02, 0x22, 0x33, 0x80, 0x01, 0x02, 0x00}, "seq 1");
  // seq 2: two earlier IFPs: E = floor(2 / 2) = 1 entry. Entry 0 protects 2+0-k*1, k=1..2:
  // seq 1 and seq 0: 22 33 xor 11 (padded 11 00) = 33 33.
  ExpectBytes(d[2], {0x00, 0x02, 0x03, 0x44, 0x55, 0x66, 0x80, 0x01, 0x02, 0x01, 0x02, 0x33, 0x33},
              "seq 2");
  // seq 4: four earlier IFPs: E = 2. Entry 0 protects 4-2 and 4-4 (seqs 2, 0):
  // 44 55 66 xor 11 00 00 = 55 55 66. Entry 1 protects 5-2 and 5-4 (seqs 3, 1):
  // 77 00 xor 22 33 = 55 33.
  ExpectBytes(
      d[4],
      {0x00, 0x04, 0x01, 0x88, 0x80, 0x01, 0x02, 0x02, 0x03, 0x55, 0x55, 0x66, 0x02, 0x55, 0x33},
      "seq 4");
  Udptl v(Config(UdptlErrorCorrection::kRedundancy));
  ExpectDeliveries(Receive(v, d[4]), {{4, {0x88}}}, "seq 4 decoded");
}

// ---------------------------------------------------------------------------------------
// Recovery

// Sends `ifps` through a sender with config `c`, drops the datagrams whose index is in `drop`,
// and returns what a receiver delivered and the receiver itself.
Deliveries Through(const UdptlConfig& c, const std::vector<Bytes>& ifps,
                   const std::vector<size_t>& drop, Udptl& rx, uint16_t first_seq = 0) {
  Udptl tx(c);
  tx.set_next_sequence(first_seq);
  Deliveries all;
  for (size_t i = 0; i < ifps.size(); ++i) {
    const Bytes dg = Encode(tx, ifps[i]);
    bool dropped = false;
    for (size_t x : drop) dropped = dropped || x == i;
    if (dropped) continue;
    for (auto& d : Receive(rx, dg)) all.push_back(d);
  }
  return all;
}

std::vector<Bytes> Numbered(size_t n) {
  std::vector<Bytes> v;
  for (size_t i = 0; i < n; ++i) v.push_back(Filled(1 + i % 5, static_cast<uint8_t>(i * 16)));
  return v;
}

Deliveries Expected(const std::vector<Bytes>& ifps, const std::vector<size_t>& missing,
                    uint16_t first_seq = 0) {
  Deliveries d;
  for (size_t i = 0; i < ifps.size(); ++i) {
    bool gone = false;
    for (size_t x : missing) gone = gone || x == i;
    if (!gone) d.push_back({static_cast<uint16_t>(first_seq + i), ifps[i]});
  }
  return d;
}

// Numbered(n) as T.38 IFPs (c0 01 80: data v21, one hdlc-data field; its length less one in
// two octets; the octets), so that FEC can read the length of one shorter than its partners.
std::vector<Bytes> T38Numbered(size_t n) {
  std::vector<Bytes> v;
  for (const Bytes& data : Numbered(n)) {
    Bytes ifp = {0xc0, 0x01, 0x80, 0x00, static_cast<uint8_t>(data.size() - 1)};
    ifp.insert(ifp.end(), data.begin(), data.end());
    v.push_back(ifp);
  }
  return v;
}

void RedundancyRecovery() {
  const auto ifps = Numbered(12);
  const UdptlConfig c = Config(UdptlErrorCorrection::kRedundancy, 3);
  Udptl rx(c);
  // One lost (3), then three in a row (6, 7, 8): 4 carries 3; 9 carries 8, 7 and 6.
  ExpectDeliveries(Through(c, ifps, {3, 6, 7, 8}, rx), Expected(ifps, {}),
                   "1, then 3 in a row, all rebuilt");
  ExpectStat(rx.stats().recovered_by_redundancy, 4, "recovered by redundancy");
  ExpectStat(rx.stats().lost, 0, "lost");

  // Four in a row lost at depth 3: the oldest is beyond reach.
  Udptl rx2(c);
  ExpectDeliveries(Through(c, ifps, {2, 3, 4, 5}, rx2), Expected(ifps, {2}),
                   "4 lost in a row: the oldest lost");
  const auto& s = rx2.stats();
  ExpectStat(s.sent, 0, "sent");
  ExpectStat(s.received, 8, "received");
  ExpectStat(s.delivered, 11, "delivered");
  ExpectStat(s.recovered_by_redundancy, 3, "recovered by redundancy");
  ExpectStat(s.recovered_by_fec, 0, "recovered by fec");
  ExpectStat(s.lost, 1, "lost");
  ExpectStat(s.duplicates, 0, "duplicates");
  ExpectStat(s.late, 0, "late");
  ExpectStat(s.malformed, 0, "malformed");

  // Without redundancy every loss is a loss.
  const UdptlConfig none = Config(UdptlErrorCorrection::kNone);
  Udptl rx3(none);
  ExpectDeliveries(Through(none, ifps, {3, 6, 7}, rx3), Expected(ifps, {3, 6, 7}), "no recovery");
  ExpectStat(rx3.stats().lost, 3, "lost without redundancy");
}

void FecRecovery() {
  const std::vector<Bytes> d = FecStream();
  // seq 2 (3 octets, longer than its neighbours) lost: seq 3 has E = floor(3/2) = 1, entry 0
  // protects seqs 2 and 1 = 44 55 66 xor 22 33 00 = 66 66 66; xor seq 1 gives 44 55 66 back,
  // and the entry is longer than seq 1, so the length (3) is exact.
  {
    Udptl rx(Config(UdptlErrorCorrection::kFec, 3, 2, 2));
    Deliveries all;
    for (size_t i : {0, 1, 3, 4})
      for (auto& x : Receive(rx, d[i])) all.push_back(x);
    ExpectDeliveries(all, Expected(kFecIfps, {}), "seq 2 rebuilt by FEC");
    ExpectStat(rx.stats().recovered_by_fec, 1, "recovered by fec");
    ExpectStat(rx.stats().lost, 0, "lost");
  }
  // seq 3 (1 octet, shorter than its partner seq 1) lost: seq 4's entry 1 = 55 33; xor seq 1
  // (22 33) = 77 00, which may be 77 or 77 00. These octets are no T.38 IFPs (44 55 66 does not
  // read as a 3-octet IFPPacket: 44 = 0 1 0 0010 0 is data v27-4800 with no data-field, one
  // octet), so the length cannot be read from it: counted lost, never cut to a guess.
  {
    Udptl rx(Config(UdptlErrorCorrection::kFec, 3, 2, 2));
    Deliveries all;
    for (size_t i : {0, 1, 2, 4})
      for (auto& x : Receive(rx, d[i])) all.push_back(x);
    ExpectDeliveries(all, Expected(kFecIfps, {3}), "seq 3 not rebuilt: its length is unknown");
    ExpectStat(rx.stats().recovered_by_fec, 0, "recovered by fec");
    ExpectStat(rx.stats().lost, 1, "lost");
  }
  // The same with T.38 IFPs (span 2, 1 entry: datagram s protects s-1 and s-2):
  //   I0 = d0 01 e0 00 01 12 00: data v17-14400 (d0 = 1 1 0 1000 0), one field, 1998
  //        t4-non-ecm-data (e0 = 1 110 0000) of 00 01 + 1 = 2 octets: 12 00. 7 octets.
  //   I1 = c0 01 80 00 00 00: data v21, one hdlc-data field (80) of 1 octet, 00. 6 octets.
  //   I2 = 06: t30-indicator v21-preamble (0 0 0 0011 0).
  // seq 2's entry: I1 padded to 7 xor I0 = 10 00 60 00 01 12 00. I1 lost: entry xor I0 =
  // c0 01 80 00 00 00 00, read as an IFPPacket: c0 | 01 | 80 | 00 00 | 00, 6 octets (trimming
  // the zeros would have given c0 01 80).
  {
    const std::vector<Bytes> ifps = {
        {0xd0, 0x01, 0xe0, 0x00, 0x01, 0x12, 0x00}, {0xc0, 0x01, 0x80, 0x00, 0x00, 0x00}, {0x06}};
    Udptl tx(Config(UdptlErrorCorrection::kFec, 3, 2, 1));
    std::vector<Bytes> dg;
    for (const Bytes& ifp : ifps) dg.push_back(Encode(tx, ifp));
    ExpectBytes(dg[2],
                {0x00, 0x02, 0x01, 0x06, 0x80, 0x01, 0x02, 0x01, 0x07, 0x10, 0x00, 0x60, 0x00, 0x01,
                 0x12, 0x00},
                "seq 2 with its entry");
    Udptl rx(Config(UdptlErrorCorrection::kFec));
    Deliveries all;
    for (size_t i : {0, 2})
      for (auto& x : Receive(rx, dg[i])) all.push_back(x);
    ExpectDeliveries(all, Expected(ifps, {}), "I1 rebuilt with its trailing zero");
    ExpectStat(rx.stats().recovered_by_fec, 1, "recovered by fec");
  }
  // A long stream at the defaults (span 3, 3 entries): every third datagram lost, one at a
  // time, and each is rebuilt.
  {
    const auto ifps = T38Numbered(60);
    const UdptlConfig c = Config(UdptlErrorCorrection::kFec);
    std::vector<size_t> drop;
    for (size_t i = 12; i < 60; i += 4) drop.push_back(i);
    Udptl rx(c);
    ExpectDeliveries(Through(c, ifps, drop, rx), Expected(ifps, {}), "every 4th lost, rebuilt");
    ExpectStat(rx.stats().recovered_by_fec, drop.size(), "recovered by fec");
    ExpectStat(rx.stats().lost, 0, "lost");
  }
}

void DuplicatesAndLate() {
  const UdptlConfig c = Config(UdptlErrorCorrection::kNone);
  Udptl tx(c), rx(c);
  const Bytes d0 = Encode(tx, {1}), d1 = Encode(tx, {2}), d2 = Encode(tx, {3});
  Receive(rx, d0);
  ExpectDeliveries(Receive(rx, d0), {}, "a duplicate delivers nothing");
  ExpectDeliveries(Receive(rx, d2), {{2, {3}}}, "seq 2 delivered, seq 1 lost");
  ExpectDeliveries(Receive(rx, d1), {}, "seq 1 late: dropped");
  ExpectDeliveries(Receive(rx, d2), {}, "seq 2 again: a duplicate");
  const auto& s = rx.stats();
  ExpectStat(s.received, 5, "received");
  ExpectStat(s.delivered, 2, "delivered");
  ExpectStat(s.duplicates, 2, "duplicates");
  ExpectStat(s.late, 1, "late");
  ExpectStat(s.lost, 1, "lost");
}

void WrapWithLoss() {
  const auto ifps = Numbered(10);
  const UdptlConfig c = Config(UdptlErrorCorrection::kRedundancy, 3);
  Udptl rx(c);
  // Sequence numbers 65532, 65533, 65534, 65535, 0, 1, ...: 65535 and 0 lost.
  ExpectDeliveries(Through(c, ifps, {3, 4}, rx, 65532), Expected(ifps, {}, 65532),
                   "65535 and 0 rebuilt across the wrap");
  ExpectStat(rx.stats().recovered_by_redundancy, 2, "recovered across the wrap");
  ExpectStat(rx.stats().lost, 0, "lost across the wrap");

  const UdptlConfig f = Config(UdptlErrorCorrection::kFec);
  const auto many = T38Numbered(30);
  Udptl rx2(f);
  ExpectDeliveries(Through(f, many, {16}, rx2, 65520), Expected(many, {}, 65520),
                   "0 rebuilt by FEC across the wrap");
  ExpectStat(rx2.stats().recovered_by_fec, 1, "recovered by fec across the wrap");

  // The sender's numbers wrap too.
  Udptl tx(c);
  tx.set_next_sequence(65535);
  const Bytes a = Encode(tx, {9});
  Expect(a[0] == 0xFF && a[1] == 0xFF, "seq 65535 is ff ff");
  const Bytes b = Encode(tx, {8});
  // seq 0 | 01 08 | 00 | one secondary: 01 09.
  ExpectBytes(b, {0x00, 0x00, 0x01, 0x08, 0x00, 0x01, 0x01, 0x09}, "seq 0 after 65535");
}

void Resynchronise() {
  const UdptlConfig c = Config(UdptlErrorCorrection::kRedundancy, 3);
  Udptl tx(c), rx(c);
  Receive(rx, Encode(tx, {1}));
  tx.set_next_sequence(5001);
  // 5000 ahead: the gap (1..5000) is lost, this one delivered, without a 5000-step walk.
  ExpectDeliveries(Receive(rx, Encode(tx, {2})), {{5001, {2}}}, "jump ahead");
  ExpectStat(rx.stats().lost, 5000, "the gap counted lost");
  tx.set_next_sequence(100);
  // Far behind (a restart): re-anchored, delivered.
  ExpectDeliveries(Receive(rx, Encode(tx, {3})), {{100, {3}}}, "far behind re-anchors");
  ExpectDeliveries(Receive(rx, Encode(tx, {4})), {{101, {4}}}, "and goes on");
}

void MaxDatagramLimitsSecondaries() {
  // Ten-octet IFPs. Primary part: 2 (seq) + 1 + 10 + 1 (CHOICE) + 1 (count) = 15 octets;
  // each secondary adds 11: 26 fits in 32, 37 does not.
  Udptl tx(Config(UdptlErrorCorrection::kRedundancy, 3, 3, 3, 32));
  for (int i = 0; i < 3; ++i) Encode(tx, Filled(10, static_cast<uint8_t>(i * 10)));
  const Bytes d = Encode(tx, Filled(10, 30));
  Expect(d.size() == 26, "26 octets, got " + Str(d.size()));
  Expect(d.size() >= 15 && d[14] == 1, "one secondary");
  tx.set_max_datagram(400);
  const Bytes e = Encode(tx, Filled(10, 40));
  Expect(e.size() == 15 + 33 && e[14] == 3, "three secondaries after raising the maximum");
  // A primary alone larger than the maximum is still sent, with no secondaries.
  tx.set_max_datagram(32);
  const Bytes big = Encode(tx, Filled(100, 0));
  Expect(big.size() == 2 + 1 + 100 + 2, "a large primary alone");
  Expect(ThrownMessage<UdptlConfigError>([&] { tx.set_max_datagram(31); }) != "",
         "31 is below the minimum");
  // An IFP over kMaxIfpBytes is not sent.
  Bytes out(kMaxDatagramBytes);
  const Bytes huge(faxline::kMaxIfpBytes + 1, 0);
  Expect(tx.Encode(huge.data(), huge.size(), out.data(), out.size()) == 0, "too long an IFP");
}

void ConfigBounds() {
  auto rejects = [](UdptlConfig c) {
    return ThrownMessage<UdptlConfigError>([&] { Udptl u(c); }) != "";
  };
  Expect(!rejects(Config(UdptlErrorCorrection::kRedundancy)), "defaults accepted");
  Expect(rejects(Config(UdptlErrorCorrection::kRedundancy, 8)), "redundancy 8");
  Expect(rejects(Config(UdptlErrorCorrection::kRedundancy, -1)), "redundancy -1");
  Expect(rejects(Config(UdptlErrorCorrection::kFec, 3, 0)), "span 0");
  Expect(rejects(Config(UdptlErrorCorrection::kFec, 3, 8)), "span 8");
  Expect(rejects(Config(UdptlErrorCorrection::kFec, 3, 3, 0)), "entries 0");
  Expect(rejects(Config(UdptlErrorCorrection::kFec, 3, 3, 8)), "entries 8");
  Expect(rejects(Config(UdptlErrorCorrection::kFec, 3, 3, 3, 31)), "max datagram 31");
  Expect(rejects(Config(UdptlErrorCorrection::kFec, 3, 3, 3, 1501)), "max datagram 1501");
}

// ---------------------------------------------------------------------------------------
// Malformed datagrams

void ExpectMalformed(const Bytes& d, const std::string& what) {
  Udptl rx(Config(UdptlErrorCorrection::kRedundancy));
  bool ok = true;
  const Deliveries got = Receive(rx, d, &ok);
  Expect(!ok && got.empty(), what + ": accepted");
  ExpectStat(rx.stats().malformed, 1, what + ": malformed");
  ExpectStat(rx.stats().received, 0, what + ": received");
}

void Malformed() {
  ExpectMalformed({}, "empty");
  const Bytes good = {0x00, 0x02, 0x03, 0xC1, 0xC2, 0xC3, 0x00, 0x02, 0x02, 0xB1, 0xB2, 0x01, 0xA1};
  for (size_t n = 1; n < good.size(); ++n)
    ExpectMalformed(Bytes(good.begin(), good.begin() + n), "truncated to " + Str(n));
  const std::vector<Bytes> fec = FecStream();
  for (size_t n = 1; n < fec[4].size(); ++n)
    ExpectMalformed(Bytes(fec[4].begin(), fec[4].begin() + n), "FEC truncated to " + Str(n));
  // The primary says 9 octets, 3 follow before the end.
  ExpectMalformed({0x00, 0x00, 0x09, 0x01, 0x02, 0x03}, "primary past the end");
  // A secondary says 5 octets, 1 follows.
  ExpectMalformed({0x00, 0x01, 0x01, 0xAA, 0x00, 0x01, 0x05, 0xBB}, "secondary past the end");
  // 11xxxxxx: a fragmented determinant.
  ExpectMalformed({0x00, 0x00, 0xC1, 0x00}, "fragmented determinant");
  ExpectMalformed({0x00, 0x00, 0x01, 0xAA, 0x00, 0xC0}, "fragmented count");
  // A complete packet, then one more octet.
  Bytes trailing = good;
  trailing.push_back(0x00);
  ExpectMalformed(trailing, "trailing garbage");
  // An IFP of 1025 octets: determinant 10 000100 00000001 = 84 01.
  Bytes huge = {0x00, 0x00, 0x84, 0x01};
  huge.insert(huge.end(), 1025, 0x55);
  huge.insert(huge.end(), {0x00, 0x00});
  ExpectMalformed(huge, "IFP over 1024 octets");
  // 15 empty secondaries: one more than 2 * kMaxRedundancy.
  Bytes many = {0x00, 0x20, 0x01, 0xAA, 0x00, 0x0F};
  many.insert(many.end(), 15, 0x00);
  ExpectMalformed(many, "15 secondaries");
  // 8 FEC entries (span 1), one more than kMaxFecEntries.
  Bytes entries = {0x00, 0x20, 0x01, 0xAA, 0x80, 0x01, 0x01, 0x08};
  entries.insert(entries.end(), 8, 0x00);
  ExpectMalformed(entries, "8 FEC entries");
  ExpectMalformed({0x00, 0x20, 0x01, 0xAA, 0x80, 0x01, 0x08, 0x00}, "FEC span 8");
  ExpectMalformed({0x00, 0x20, 0x01, 0xAA, 0x80, 0x01, 0xFF, 0x00}, "FEC span -1");
  ExpectMalformed({0x00, 0x20, 0x01, 0xAA, 0x80, 0x00, 0x00}, "FEC span of no octets");
  ExpectMalformed({0x00, 0x20, 0x01, 0xAA, 0x40, 0x00}, "CHOICE octet 40");
  // The same but well-formed, for contrast: accepted, so the vectors above fail for their fault.
  Udptl rx(Config(UdptlErrorCorrection::kRedundancy));
  bool ok = false;
  Receive(rx, {0x00, 0x20, 0x01, 0xAA, 0x80, 0x01, 0x07, 0x00}, &ok);
  Expect(ok, "FEC span 7 with no entries is well-formed");
  Bytes fourteen = {0x00, 0x20, 0x01, 0xAA, 0x00, 0x0E};
  fourteen.insert(fourteen.end(), 14, 0x00);
  Receive(rx, fourteen, &ok);
  Expect(ok, "14 secondaries are well-formed");
}

void Fuzz() {
  std::mt19937 rng(20240611);
  Udptl rx(Config(UdptlErrorCorrection::kFec));
  const std::vector<Bytes> seeds = FecStream();
  uint64_t calls = 0, accepted = 0, delivered = 0;
  for (int i = 0; i < 10000; ++i) {
    Bytes d;
    if (i % 2 == 0) {
      d.resize(rng() % 64);
      for (auto& b : d) b = static_cast<uint8_t>(rng());
    } else {
      // A valid datagram with a few octets flipped, so parsing gets deep.
      d = seeds[rng() % seeds.size()];
      for (int k = 0; k < 1 + static_cast<int>(rng() % 3); ++k)
        d[rng() % d.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
    }
    Deliveries got;
    const bool ok = rx.Receive(d.data(), d.size(), Collect, &got);
    ++calls;
    if (ok) ++accepted;
    Expect(ok || got.empty(), "a malformed datagram delivered something");
    delivered += got.size();
  }
  const auto& s = rx.stats();
  ExpectStat(s.received + s.malformed, calls, "received + malformed");
  ExpectStat(s.received, accepted, "received");
  ExpectStat(s.delivered, delivered, "delivered");
  Expect(s.malformed > 1000 && s.received > 100,
         "both kinds seen: malformed " + Str(s.malformed) + ", received " + Str(s.received));
}

}  // namespace

int main() {
  if (!faxline::test::MakeTempDir("faxline-udptl-test")) return 2;
  Run("seq 0 with a 3-octet IFP and no secondaries", FirstDatagram);
  Run("1- and 2-octet length determinants (127, 128, 300)", LengthDeterminants);
  Run("an empty IFP", EmptyIfp);
  Run("a datagram with 2 secondaries", TwoSecondaries);
  Run("FEC datagrams", FecDatagrams);
  Run("recovery by redundancy, loss beyond its depth", RedundancyRecovery);
  Run("recovery by FEC, of IFPs longer and shorter than their partners", FecRecovery);
  Run("duplicates and late datagrams", DuplicatesAndLate);
  Run("the 65535 -> 0 wrap with loss at the wrap", WrapWithLoss);
  Run("jumps re-anchor without walking the gap", Resynchronise);
  Run("max_datagram limits the secondaries", MaxDatagramLimitsSecondaries);
  Run("configuration bounds", ConfigBounds);
  Run("every class of malformed datagram", Malformed);
  Run("10,000 fuzzed datagrams", Fuzz);
  return faxline::test::Finish("udptl");
}
