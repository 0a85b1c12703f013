// UDPTL (T.38 Annex A) framing, written from the ASN.1 and X.691 aligned PER.
//
// The octets of a UDPTLPacket, as aligned PER lays them out (every field after the first
// starts on an octet boundary, because each is preceded by octet-aligned material):
//
//   seq-number          2 octets, big-endian (INTEGER (0..65535): a constrained whole number
//                       with a range of 65536 takes two aligned octets)
//   primary-ifp-packet  length determinant, then the IFP's octets (an open type)
//   error-recovery      1 octet: the CHOICE index in its top bit, padded to the octet
//                       (0x00 secondary-ifp-packets, 0x80 fec-info)
//     secondary:        count (a length determinant), then each IFP as an open type
//     fec-info:         fec-npackets (unconstrained INTEGER: a length determinant, then the
//                       fewest two's-complement octets), then fec-data: a count (a length
//                       determinant) and each entry as an OCTET STRING (determinant + octets)
//
// A length determinant is one octet 0xxxxxxx for 0..127, two octets 10xxxxxx xxxxxxxx for
// 128..16383; 11xxxxxx introduces a fragment, which no IFP up to kMaxIfpBytes needs, so a
// datagram holding one is malformed.
//
// FEC arrangement (the interleaved one used by deployed UDPTL peers). With fec-npackets =
// span and E entries, entry m (0 <= m < E) of the datagram whose sequence number is s is the
// XOR of the IFPs numbered s + m - k*E for k = 1..span, each padded with zero octets to the
// longest of them; the entry's length is that longest length. Entry m therefore protects one
// IFP in every E, and the E entries together cover the span*E IFPs before s. A lost IFP s - d
// (d >= 1) sits in entry m = k*E - d with k = ceil(d / E); it is rebuilt when every other IFP
// of that entry is in the receive history.
//
// The length of a rebuilt IFP. The entry is as long as the longest IFP it protects, and the
// shorter ones were padded with zero octets, so the rebuilt octets are the lost IFP followed by
// zero or more zeros. The length is known exactly when the entry is longer than every other IFP
// it protects (the lost IFP is the longest: the entry's length), or when the rebuilt octets do
// not end in zero (the lost IFP reaches the end). Otherwise it is read from the IFP itself: an
// IFPPacket (T.38's ASN.1, aligned PER) is self-delimiting, so decoding it from its first octet
// stops exactly at its end, whatever follows. The ASN.1 of field-type was corrected after 1998
// (an extension marker was added) and senders of T.38 version 0 still use the 1998 form
// (SpanDSP does); and aligned PER packs a field with no field-data and the next field into one
// octet where some encoders start every field on an octet. These four layouts read some IFPs to
// different lengths (a 1998 hdlc-fcs-OK-sig-end field is a post-1998 extension value one octet
// longer), so every IFP received whole is read all four ways, and a layout that misreads one is
// not the far end's and is no longer used. The length is taken only when every reading left
// agrees and leaves only zeros after it. (An empty IFP is valid UDPTL but no IFPPacket: one
// received rules every layout out, since the far end sends more than T.38 IFPs.) Anything else is
// counted lost, never handed on with a guessed length: T.38 image data ends in zero octets often,
// and an IFP cut short or padded is worse than a lost one (the T.38 core drops a malformed IFP
// without telling the fax it lost data).
//
// Sending FEC at the start of a call (and after set_next_sequence), when fewer earlier IFPs
// exist: E is the largest number <= fec_entries for which every protected IFP was sent, i.e.
// floor(n / span) where n counts the IFPs sent just before, consecutively numbered; E = 0 (a
// fec-info with no entries) for the first datagrams. E is lowered further while the datagram
// would exceed max_datagram (the arrangement depends on E, so entries are never just cut off).
#include "engine/udptl.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace faxline {
namespace {

// Beyond this many sequence numbers ahead or behind, the far end has jumped (a restart, a
// corrupted number): re-anchor instead of walking the gap.
constexpr int kResyncGap = 1000;
// The most secondary IFPs a received datagram may carry.
constexpr size_t kMaxSecondaries = static_cast<size_t>(kMaxRedundancy) * 2;

size_t DeterminantSize(size_t n) { return n < 128 ? 1 : 2; }

// Writes a length determinant for n < 16384 at p; returns the octets written.
size_t PutDeterminant(uint8_t* p, size_t n) {
  if (n < 128) {
    p[0] = static_cast<uint8_t>(n);
    return 1;
  }
  p[0] = static_cast<uint8_t>(0x80 | (n >> 8));
  p[1] = static_cast<uint8_t>(n & 0xFF);
  return 2;
}

// Reads PER fields from a received datagram; every read is checked against the end.
struct Reader {
  const uint8_t* data;
  size_t length;
  size_t pos = 0;

  bool Determinant(size_t& n) {
    if (pos >= length) return false;
    const uint8_t first = data[pos++];
    if ((first & 0x80) == 0) {
      n = first;
      return true;
    }
    if ((first & 0xC0) == 0xC0) return false;  // a fragment: never needed, never accepted
    if (pos >= length) return false;
    n = (static_cast<size_t>(first & 0x3F) << 8) | data[pos++];
    return true;
  }

  // A determinant and that many octets, at most `max` of them.
  bool Octets(size_t max, const uint8_t*& bytes, size_t& n) {
    if (!Determinant(n) || n > max || n > length - pos) return false;
    bytes = data + pos;
    pos += n;
    return true;
  }
};

struct Span {
  const uint8_t* bytes = nullptr;
  size_t length = 0;
};

// One received datagram, parsed without copying: pointers into the datagram.
struct Parsed {
  uint16_t seq = 0;
  Span primary;
  bool fec = false;
  size_t secondary_count = 0;
  Span secondaries[kMaxSecondaries];
  int fec_span = 0;
  size_t fec_count = 0;
  Span fec_entries[kMaxFecEntries];
};

bool Parse(const uint8_t* data, size_t length, Parsed& out) {
  if (data == nullptr || length == 0 || length > kMaxDatagramBytes) return false;
  Reader r{data, length};
  if (length < 2) return false;
  out.seq = static_cast<uint16_t>((data[0] << 8) | data[1]);
  r.pos = 2;
  if (!r.Octets(kMaxIfpBytes, out.primary.bytes, out.primary.length)) return false;
  if (r.pos >= length) return false;
  const uint8_t choice = data[r.pos++];
  // The index bit and seven padding bits, which X.691 sets to zero.
  if (choice != 0x00 && choice != 0x80) return false;
  out.fec = choice == 0x80;
  size_t count = 0;
  if (!out.fec) {
    if (!r.Determinant(count) || count > kMaxSecondaries) return false;
    out.secondary_count = count;
    for (size_t i = 0; i < count; ++i) {
      if (!r.Octets(kMaxIfpBytes, out.secondaries[i].bytes, out.secondaries[i].length))
        return false;
    }
  } else {
    size_t int_len = 0;
    if (!r.Determinant(int_len) || int_len < 1 || int_len > 2 || int_len > length - r.pos)
      return false;
    long value = (data[r.pos] & 0x80) ? -1 : 0;  // two's complement: the sign from the top bit
    for (size_t i = 0; i < int_len; ++i) value = value * 256 + data[r.pos + i];
    r.pos += int_len;
    if (value < 0 || value > kMaxFecSpan) return false;
    out.fec_span = static_cast<int>(value);
    if (!r.Determinant(count) || count > static_cast<size_t>(kMaxFecEntries)) return false;
    out.fec_count = count;
    for (size_t i = 0; i < count; ++i) {
      if (!r.Octets(kMaxIfpBytes, out.fec_entries[i].bytes, out.fec_entries[i].length))
        return false;
    }
  }
  return r.pos == length;  // anything after a complete packet is garbage
}

// Reads the bits of a PER encoding, most significant first; reading past the end fails.
struct BitReader {
  const uint8_t* data;
  size_t length;
  size_t bit = 0;  // position in bits from the first octet

  bool Bits(int n, unsigned& value) {
    if (bit + static_cast<size_t>(n) > length * 8) return false;
    value = 0;
    for (int i = 0; i < n; ++i, ++bit)
      value = (value << 1) | ((data[bit / 8] >> (7 - bit % 8)) & 1u);
    return true;
  }
  void Align() { bit = (bit + 7) / 8 * 8; }
  size_t Octets() const { return (bit + 7) / 8; }
};

// An extensible ENUMERATED's value after its extension bit was 1: a normally small
// non-negative whole number (X.691 10.6), which is a 0 bit and six bits for the values any
// T.38 version defines; a larger one is not an IFP we know.
bool ExtensionValue(BitReader& r) {
  unsigned large = 0, value = 0;
  return r.Bits(1, large) && large == 0 && r.Bits(6, value);
}

// How a sender lays out an IFP's field-type and its fields (see the head of this file).
struct IfpLayout {
  bool corrigendum;      // field-type has the extension marker (after 1998) or not (1998)
  bool field_per_octet;  // every field starts on an octet, or strict aligned PER packing
};
constexpr int kIfpLayouts = 4;
constexpr IfpLayout Layout(int i) { return IfpLayout{(i & 1) != 0, (i & 2) != 0}; }

// The length of the IFPPacket at the start of `data` (length octets), read with `layout`;
// 0 when the octets do not start with a complete IFP. The ASN.1, T.38:
//   IFPPacket ::= SEQUENCE { type-of-msg Type-of-msg, data-field SEQUENCE OF SEQUENCE {
//       field-type ENUMERATED {8 values, ...(after 1998) 4 more},
//       field-data OCTET STRING (SIZE (1..65535)) OPTIONAL } OPTIONAL }
//   Type-of-msg ::= CHOICE { t30-indicator ENUMERATED {16 values, ...},
//                            data ENUMERATED {9 values, ...} }
size_t IfpLength(const uint8_t* data, size_t length, IfpLayout layout) {
  BitReader r{data, length};
  unsigned has_fields = 0, choice = 0, extended = 0, value = 0;
  // The SEQUENCE's preamble (data-field present), the CHOICE index, the ENUMERATED.
  if (!r.Bits(1, has_fields) || !r.Bits(1, choice) || !r.Bits(1, extended)) return 0;
  if (extended != 0) {
    if (!ExtensionValue(r)) return 0;
  } else {
    // 16 indicators or 9 data types in the root: four bits either way.
    if (!r.Bits(4, value) || (choice == 1 && value > 8)) return 0;
  }
  if (has_fields != 0) {
    // The SEQUENCE OF's count: an octet-aligned length determinant (a fragment is never sent).
    r.Align();
    unsigned first = 0, second = 0;
    if (!r.Bits(8, first)) return 0;
    size_t count = first;
    if ((first & 0x80) != 0) {
      if ((first & 0xC0) == 0xC0 || !r.Bits(8, second)) return 0;
      count = ((first & 0x3Fu) << 8) | second;
    }
    // Each field takes at least four bits, so the count is bounded by what is left.
    if (count > length * 2) return 0;
    for (size_t i = 0; i < count; ++i) {
      if (layout.field_per_octet) r.Align();
      unsigned has_data = 0;
      if (!r.Bits(1, has_data)) return 0;
      if (layout.corrigendum) {
        if (!r.Bits(1, extended)) return 0;
        if (extended != 0 ? !ExtensionValue(r) : !r.Bits(3, value)) return 0;
      } else if (!r.Bits(3, value)) {
        return 0;
      }
      if (has_data != 0) {
        // SIZE (1..65535): the length less one as a two-octet aligned whole number, then the
        // octets, aligned.
        unsigned size = 0;
        r.Align();
        if (!r.Bits(16, size)) return 0;
        const size_t octets = static_cast<size_t>(size) + 1;
        if (octets > length - r.Octets()) return 0;
        r.bit += octets * 8;
      }
    }
  }
  return r.Octets();
}

// The layouts (one bit each) that read the IFP `data`, received whole, to another length or
// not at all.
unsigned MisreadingLayouts(const uint8_t* data, size_t length) {
  unsigned out = 0;
  for (int i = 0; i < kIfpLayouts; ++i) {
    const size_t got = IfpLength(data, length, Layout(i));
    if (got == 0 || got != length) out |= 1u << i;
  }
  return out;
}

// The exact length of a lost IFP rebuilt into buf (n octets: the IFP, then zero padding), or
// 0 when it cannot be known. longest_is_lost: the entry is longer than every other IFP it
// protects. ruled_out: the layouts the far end's IFPs contradicted.
size_t RebuiltLength(const uint8_t* buf, size_t n, bool longest_is_lost, unsigned ruled_out) {
  if (longest_is_lost || (n > 0 && buf[n - 1] != 0)) return n;
  size_t shortest = n;  // the IFP keeps every nonzero octet
  while (shortest > 0 && buf[shortest - 1] == 0) --shortest;
  size_t agreed = 0;
  for (int i = 0; i < kIfpLayouts; ++i) {
    if ((ruled_out >> i) & 1u) continue;
    const size_t got = IfpLength(buf, n, Layout(i));
    // Not an IFP in this layout, or one that would leave nonzero octets after it: not the
    // sender's layout.
    if (got == 0 || got < shortest) continue;
    if (agreed != 0 && got != agreed) return 0;
    agreed = got;
  }
  return agreed;
}

}  // namespace

void ValidateUdptlConfig(const UdptlConfig& config) {
  if (config.error_correction != UdptlErrorCorrection::kNone &&
      config.error_correction != UdptlErrorCorrection::kRedundancy &&
      config.error_correction != UdptlErrorCorrection::kFec)
    throw UdptlConfigError("error correction must be none, redundancy or fec");
  if (config.redundancy < 0 || config.redundancy > kMaxRedundancy)
    throw UdptlConfigError("redundancy must be 0.." + std::to_string(kMaxRedundancy) + ", not " +
                           std::to_string(config.redundancy));
  if (config.fec_span < 1 || config.fec_span > kMaxFecSpan)
    throw UdptlConfigError("fec span must be 1.." + std::to_string(kMaxFecSpan) + ", not " +
                           std::to_string(config.fec_span));
  if (config.fec_entries < 1 || config.fec_entries > kMaxFecEntries)
    throw UdptlConfigError("fec entries must be 1.." + std::to_string(kMaxFecEntries) + ", not " +
                           std::to_string(config.fec_entries));
  if (config.max_datagram < kMinMaxDatagramBytes || config.max_datagram > kMaxDatagramBytes)
    throw UdptlConfigError("max datagram must be " + std::to_string(kMinMaxDatagramBytes) + ".." +
                           std::to_string(kMaxDatagramBytes) + ", not " +
                           std::to_string(config.max_datagram));
}

Udptl::Udptl(const UdptlConfig& config) : config_(config) { ValidateUdptlConfig(config); }

void Udptl::set_max_datagram(size_t max_datagram) {
  UdptlConfig next = config_;
  next.max_datagram = max_datagram;
  ValidateUdptlConfig(next);
  config_ = next;
}

size_t Udptl::Encode(const uint8_t* ifp, size_t length, uint8_t* out, size_t cap) {
  if (length > kMaxIfpBytes || (ifp == nullptr && length > 0) || out == nullptr) return 0;
  const uint16_t seq = tx_seq_;
  // Up to and including the CHOICE octet; then the recovery field's own fixed octets.
  const size_t head = 2 + DeterminantSize(length) + length + 1;
  const bool fec = config_.error_correction == UdptlErrorCorrection::kFec;
  if (head + (fec ? 3 : 1) > cap) return 0;  // not even the primary and an empty field fit
  const size_t budget = std::min(config_.max_datagram, cap);

  // The earlier IFPs still held, newest first, consecutively numbered: those and only those
  // can be repeated or protected.
  auto sent_slot = [this, seq](size_t back) -> const Slot* {
    const uint16_t want = static_cast<uint16_t>(seq - back);
    const Slot& slot = sent_[want % kHistory];
    return slot.valid && slot.seq == want ? &slot : nullptr;
  };
  // Look back only as far as the recovery can use: each slot is a kilobyte apart, and walking
  // all of them on every datagram cost more than SpanDSP's own tick.
  size_t needed = 0;
  if (fec) {
    needed = static_cast<size_t>(config_.fec_span) * static_cast<size_t>(config_.fec_entries);
  } else if (config_.error_correction == UdptlErrorCorrection::kRedundancy) {
    needed = static_cast<size_t>(config_.redundancy);
  }
  size_t held = 0;
  while (held < needed && held + 1 < kHistory && sent_slot(held + 1) != nullptr) ++held;

  out[0] = static_cast<uint8_t>(seq >> 8);
  out[1] = static_cast<uint8_t>(seq & 0xFF);
  size_t pos = 2 + PutDeterminant(out + 2, length);
  if (length > 0) std::memcpy(out + pos, ifp, length);
  pos += length;

  if (!fec) {
    out[pos++] = 0x00;
    size_t count = 0;
    size_t size = head + 1;  // with a one-octet count (at most 7 secondaries)
    const size_t want = config_.error_correction == UdptlErrorCorrection::kRedundancy
                            ? std::min(static_cast<size_t>(config_.redundancy), held)
                            : 0;
    while (count < want) {
      const Slot* s = sent_slot(count + 1);
      const size_t more = DeterminantSize(s->length) + s->length;
      if (size + more > budget) break;  // whole IFPs only, never split
      size += more;
      ++count;
    }
    out[pos++] = static_cast<uint8_t>(count);
    for (size_t i = 0; i < count; ++i) {
      const Slot* s = sent_slot(i + 1);
      pos += PutDeterminant(out + pos, s->length);
      std::memcpy(out + pos, s->bytes.data(), s->length);
      pos += s->length;
    }
  } else {
    const int span = config_.fec_span;
    int entries = std::min(config_.fec_entries, static_cast<int>(held) / span);
    // The length of entry m with E entries: the longest IFP it protects.
    auto entry_length = [&](int m, int e) {
      size_t longest = 0;
      for (int k = 1; k <= span; ++k)
        longest = std::max<size_t>(longest, sent_slot(static_cast<size_t>(k * e - m))->length);
      return longest;
    };
    const size_t fixed = head + 3;  // fec-npackets (2 octets) and the entry count
    for (; entries > 0; --entries) {
      size_t size = fixed;
      for (int m = 0; m < entries; ++m) {
        const size_t n = entry_length(m, entries);
        size += DeterminantSize(n) + n;
      }
      if (size <= budget) break;
    }
    out[pos++] = 0x80;
    out[pos++] = 0x01;  // fec-npackets: one octet holds 1..7
    out[pos++] = static_cast<uint8_t>(span);
    out[pos++] = static_cast<uint8_t>(entries);
    for (int m = 0; m < entries; ++m) {
      const size_t n = entry_length(m, entries);
      pos += PutDeterminant(out + pos, n);
      uint8_t* entry = out + pos;
      std::memset(entry, 0, n);
      for (int k = 1; k <= span; ++k) {
        const Slot* s = sent_slot(static_cast<size_t>(k * entries - m));
        for (size_t j = 0; j < s->length; ++j) entry[j] ^= s->bytes[j];
      }
      pos += n;
    }
  }

  Slot& mine = sent_[seq % kHistory];
  mine.valid = true;
  mine.seq = seq;
  mine.length = static_cast<uint16_t>(length);
  if (length > 0) std::memcpy(mine.bytes.data(), ifp, length);
  tx_seq_ = static_cast<uint16_t>(seq + 1);
  ++stats_.sent;
  return pos;
}

bool Udptl::Receive(const uint8_t* datagram, size_t length, Deliver deliver, void* context) {
  Parsed p;
  if (!Parse(datagram, length, p)) {
    ++stats_.malformed;
    return false;
  }
  ++stats_.received;

  auto slot_of = [this](uint16_t seq) -> Slot& { return received_[seq % kHistory]; };
  auto held = [&](uint16_t seq) -> const Slot* {
    const Slot& s = slot_of(seq);
    return s.valid && s.seq == seq ? &s : nullptr;
  };
  // Records an IFP as delivered (the history FEC and duplicate detection read) and hands it on.
  auto hand_on = [&](uint16_t seq, const uint8_t* bytes, size_t n) {
    Slot& s = slot_of(seq);
    if (bytes != s.bytes.data() && n > 0) std::memmove(s.bytes.data(), bytes, n);
    s.valid = true;
    s.seq = seq;
    s.length = static_cast<uint16_t>(n);
    ++stats_.delivered;
    if (deliver != nullptr) deliver(context, seq, s.bytes.data(), n);
  };

  if (!rx_started_) {
    rx_started_ = true;
    rx_next_ = p.seq;
  }
  const int ahead = static_cast<int16_t>(static_cast<uint16_t>(p.seq - rx_next_));
  if (ahead < 0) {
    if (ahead >= -kResyncGap) {
      if (held(p.seq) != nullptr) {
        ++stats_.duplicates;
      } else {
        ++stats_.late;
      }
      return true;
    }
    rx_next_ = p.seq;  // far behind: the far end restarted its numbering
  } else if (ahead > 0) {
    // The gap rx_next_ .. seq-1. Only the newest kHistory of it could be rebuilt (no
    // datagram reaches further back); the rest is counted lost without a walk.
    const size_t gap = static_cast<size_t>(ahead);
    const size_t walk = std::min(gap, kHistory);
    stats_.lost += gap - walk;
    for (size_t d = walk; d >= 1; --d) {  // d: how far before this datagram, oldest first
      const uint16_t seq = static_cast<uint16_t>(p.seq - d);
      if (!p.fec) {
        if (d <= p.secondary_count) {
          const Span& s = p.secondaries[d - 1];
          ++stats_.recovered_by_redundancy;
          hand_on(seq, s.bytes, s.length);
        } else {
          ++stats_.lost;
        }
        continue;
      }
      // FEC: the entry holding seq, and every other IFP it protects from the history.
      const int e = static_cast<int>(p.fec_count);
      const int k = e > 0 ? static_cast<int>((d + e - 1) / e) : 0;
      const int m = k * e - static_cast<int>(d);
      bool rebuilt = false;
      if (e > 0 && k <= p.fec_span) {
        const Span& entry = p.fec_entries[m];
        Slot& target = slot_of(seq);
        bool complete = true;
        size_t others_longest = 0;
        std::array<uint8_t, kMaxIfpBytes>& buf = target.bytes;
        for (int kk = 1; kk <= p.fec_span && complete; ++kk) {
          if (kk == k) continue;
          const Slot* other = held(static_cast<uint16_t>(p.seq + m - kk * e));
          // Missing, or longer than the entry (not the arrangement we read it as).
          if (other == nullptr || other->length > entry.length) complete = false;
          if (complete) others_longest = std::max<size_t>(others_longest, other->length);
        }
        if (complete) {
          // The target slot holds an IFP kHistory or more older, never one this entry needs
          // (members are 1..span*E <= 49 < kHistory apart), so overwriting it is safe.
          if (entry.length > 0) std::memcpy(buf.data(), entry.bytes, entry.length);
          for (int kk = 1; kk <= p.fec_span; ++kk) {
            if (kk == k) continue;
            const Slot* other = held(static_cast<uint16_t>(p.seq + m - kk * e));
            for (size_t j = 0; j < other->length; ++j) buf[j] ^= other->bytes[j];
          }
          const size_t n = RebuiltLength(buf.data(), entry.length, entry.length > others_longest,
                                         ifp_layouts_ruled_out_);
          if (n > 0 || entry.length == 0) {
            ++stats_.recovered_by_fec;
            hand_on(seq, buf.data(), n);
            rebuilt = true;
          } else {
            target.valid = false;  // its octets are no longer the older IFP it held
          }
        }
      }
      if (!rebuilt) ++stats_.lost;
    }
  }
  // Only IFPs known whole teach the layout: the primary (not a rebuilt one). Once every layout
  // is ruled out (a far end that sends no T.38 IFPs), there is nothing left to read.
  if (ifp_layouts_ruled_out_ != (1u << kIfpLayouts) - 1)
    ifp_layouts_ruled_out_ |= MisreadingLayouts(p.primary.bytes, p.primary.length);
  hand_on(p.seq, p.primary.bytes, p.primary.length);
  rx_next_ = static_cast<uint16_t>(p.seq + 1);
  return true;
}

}  // namespace faxline
