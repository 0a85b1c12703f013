#include "engine/t38_gateway.h"

#include <algorithm>
#include <cstring>
#include <new>

namespace faxline {
namespace {

constexpr int kAllModems = T30_SUPPORT_V17 | T30_SUPPORT_V29 | T30_SUPPORT_V27TER;

// Validates and passes the options on, so members can be built from them in order.
const T38GatewayOptions& Checked(const T38GatewayOptions& options) {
  ValidateT38GatewayOptions(options);
  return options;
}

}  // namespace

void ValidateT38GatewayOptions(const T38GatewayOptions& o) {
  ValidateT38Config(o.t38);
  if (o.modems == 0 || (o.modems & ~kAllModems) != 0)
    throw OptionError("modems must be a non-empty set of V.17, V.29 and V.27ter");
}

T38Gateway::T38Gateway(const T38GatewayOptions& options)
    : options_(Checked(options)), port_(options_.t38.udptl) {
  // Events are rare (a few dozen per call): reserving once keeps the per-frame path free of
  // allocation in steady state.
  events_.reserve(64);
  gateway_ = t38_gateway_init(nullptr, &UdptlPort::TxPacketHandler, &port_);
  if (gateway_ == nullptr) throw std::bad_alloc();
  core_ = t38_gateway_get_t38_core_state(gateway_);
  ConfigureT38Core(core_, options_.t38);
  t38_gateway_set_transmit_on_idle(gateway_, 1);
  t38_gateway_set_ecm_capability(gateway_, options_.ecm ? 1 : 0);
  // A modem above the T.38 leg's maximum rate would train a speed the T.38 side cannot carry.
  int modems = options_.modems;
  if (options_.t38.max_bit_rate < 12000) modems &= ~T30_SUPPORT_V17;
  if (options_.t38.max_bit_rate < 7200) modems &= ~T30_SUPPORT_V29;
  if (modems == 0) {
    t38_gateway_free(gateway_);
    throw OptionError("none of the allowed modems runs at or below the T.38 maximum bit rate of " +
                      std::to_string(options_.t38.max_bit_rate));
  }
  t38_gateway_set_supported_modems(gateway_, modems);
  t38_gateway_set_fill_bit_removal(gateway_, options_.t38.fill_bit_removal ? 1 : 0);
  t38_gateway_set_real_time_frame_handler(gateway_, &T38Gateway::OnFrame, this);
}

T38Gateway::~T38Gateway() {
  if (gateway_ != nullptr) t38_gateway_free(gateway_);
}

void T38Gateway::Receive(const int16_t* samples, int count) {
  // t38_gateway_rx takes a non-const pointer but only reads the samples.
  t38_gateway_rx(gateway_, const_cast<int16_t*>(samples), count);
  elapsed_samples_ += count;
}

void T38Gateway::ReceiveMissing(int count) {
  t38_gateway_rx_fillin(gateway_, count);
  elapsed_samples_ += count;
}

void T38Gateway::Transmit(int16_t* out, int count) {
  const int written = t38_gateway_tx(gateway_, out, count);
  if (written < count) std::fill(out + std::max(written, 0), out + count, int16_t{0});
}

void T38Gateway::ReceiveDatagram(const uint8_t* datagram, size_t length) {
  port_.Receive(datagram, length, core_);
}

T38GatewayStats T38Gateway::stats() const {
  t38_stats_t raw;
  std::memset(&raw, 0, sizeof(raw));
  t38_gateway_get_transfer_statistics(gateway_, &raw);
  T38GatewayStats s;
  s.bit_rate = raw.bit_rate;
  s.ecm = raw.error_correcting_mode != 0;
  s.pages_transferred = raw.pages_transferred;
  return s;
}

void T38Gateway::TakeEvents(std::vector<Event>& out) {
  out.clear();
  out.swap(events_);
  events_.reserve(64);
}

void T38Gateway::OnFrame(t38_gateway_state_t*, void* user_data, int direction, const uint8_t* msg,
                         int len) {
  auto* self = static_cast<T38Gateway*>(user_data);
  if (!IsTracedFrame(msg, len)) return;
  try {
    self->events_.emplace_back();
    Event& e = self->events_.back();
    e.type = EventType::kFrame;
    e.sample_time = self->elapsed_samples_;
    // SpanDSP's direction is TRUE for a frame it received from the modem (audio) side.
    e.frame_incoming = direction == 0;
    SetTracedFrame(e, msg, len);
  } catch (...) {
    // Out of memory while queueing: the fax goes on, only the trace entry is lost.
  }
}

}  // namespace faxline
