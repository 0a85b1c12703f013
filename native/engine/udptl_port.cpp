#include "engine/udptl_port.h"

#include <algorithm>
#include <cstring>

namespace faxline {

UdptlPort::UdptlPort(const UdptlConfig& config)
    : udptl_(config), outbox_(kOutboxDatagrams * kMaxDatagramBytes) {}

int UdptlPort::TxPacketHandler(t38_core_state_t*, void* user_data, const uint8_t* buf, int len,
                               int count) {
  if (buf == nullptr || len < 0) return -1;
  static_cast<UdptlPort*>(user_data)->Send(buf, static_cast<size_t>(len), count);
  return 0;
}

void UdptlPort::Send(const uint8_t* ifp, size_t length, int count) {
  if (taken_) {
    count_ = 0;
    taken_ = false;
  }
  const int copies = std::clamp(count, 1, kMaxPacketRepeats);
  if (count_ >= kOutboxDatagrams) {
    // Encode anyway, so the sequence numbers still count this IFP and the far end sees it as
    // lost (and may rebuild it from the redundancy of later datagrams) rather than skipped.
    std::array<uint8_t, kMaxDatagramBytes> scratch;
    udptl_.Encode(ifp, length, scratch.data(), scratch.size());
    outbox_overflows_ += static_cast<uint64_t>(copies);
    return;
  }
  uint8_t* first = &outbox_[count_ * kMaxDatagramBytes];
  const size_t n = udptl_.Encode(ifp, length, first, kMaxDatagramBytes);
  if (n == 0) return;  // an IFP longer than UDPTL carries: SpanDSP never makes one
  lengths_[count_++] = static_cast<uint16_t>(n);
  for (int i = 1; i < copies; ++i) {
    if (count_ >= kOutboxDatagrams) {
      ++outbox_overflows_;
      continue;
    }
    std::memcpy(&outbox_[count_ * kMaxDatagramBytes], first, n);
    lengths_[count_++] = static_cast<uint16_t>(n);
  }
}

void UdptlPort::Deliver(void* context, uint16_t seq, const uint8_t* ifp, size_t length) {
  // SpanDSP checks the IFP itself and ignores one it cannot parse.
  t38_core_rx_ifp_packet(static_cast<t38_core_state_t*>(context), ifp, static_cast<int>(length),
                         seq);
}

void UdptlPort::Receive(const uint8_t* datagram, size_t length, t38_core_state_t* core) {
  udptl_.Receive(datagram, length, &UdptlPort::Deliver, core);
}

size_t UdptlPort::Take() {
  const size_t n = taken_ ? 0 : count_;
  taken_ = true;
  return n;
}

}  // namespace faxline
