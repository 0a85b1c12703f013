#include "bindings/session_group.h"

#include <algorithm>
#include <cstring>

#include "bindings/args.h"
#include "bindings/session.h"
#include "engine/udptl.h"

namespace faxline::bindings {
namespace {

constexpr const char* kClosed = "The session group is closed";
// A group's slots: enough for every call a worker thread can carry (see the scale bench).
constexpr int kMaxCapacity = 16384;
// Datagram records of a tick, each kMaxDatagramBytes wide so JS can keep one view per record:
// a T.38 tick makes one to three datagrams, so four per slot is room to spare.
constexpr size_t kRecordsPerSlot = 4;
constexpr size_t kMinRecords = 64;

// What `counts` holds after a tick (see JsBuffers).
enum Count { kOutboundDatagrams, kEventSlots, kDroppedInbound, kDeferredOutbound, kCountSlots };

}  // namespace

const napi_type_tag SessionGroup::kTypeTag = NewTypeTag();

Napi::Function SessionGroup::DefineClass(Napi::Env env) {
  return DefineTaggedClass<SessionGroup>(env, {{"add", Dispatch<&SessionGroup::JsAdd>},
                                               {"remove", Dispatch<&SessionGroup::JsRemove>},
                                               {"buffers", Dispatch<&SessionGroup::JsBuffers>},
                                               {"deliver", Dispatch<&SessionGroup::JsDeliver>},
                                               {"tick", Dispatch<&SessionGroup::JsTick>},
                                               {"size", Dispatch<&SessionGroup::JsSize>},
                                               {"close", Dispatch<&SessionGroup::JsClose>}});
}

SessionGroup::SessionGroup(const Napi::CallbackInfo& info) : ObjectWrap<SessionGroup>(info) {
  Napi::Env env = info.Env();
  RequireConstructCall<SessionGroup>(info);
  capacity_ = IntArg(info, 0, "the group's capacity", 1, kMaxCapacity);
  const size_t records = std::max(kMinRecords, kRecordsPerSlot * static_cast<size_t>(capacity_));
  inbound_records_ = records;
  outbox_records_ = records;
  slots_.assign(static_cast<size_t>(capacity_), nullptr);

  const size_t samples = static_cast<size_t>(capacity_) * kSamplesPerFrame;
  Napi::Int16Array received = Napi::Int16Array::New(env, samples);
  Napi::Int16Array transmit = Napi::Int16Array::New(env, samples);
  Napi::Uint8Array heard = Napi::Uint8Array::New(env, static_cast<size_t>(capacity_));
  Napi::Uint8Array inbound = Napi::Uint8Array::New(env, records * kMaxDatagramBytes);
  Napi::Uint32Array inbound_slots = Napi::Uint32Array::New(env, records);
  Napi::Uint16Array inbound_lengths = Napi::Uint16Array::New(env, records);
  Napi::Uint8Array outbox = Napi::Uint8Array::New(env, records * kMaxDatagramBytes);
  Napi::Uint32Array outbox_slots = Napi::Uint32Array::New(env, records);
  Napi::Uint16Array outbox_lengths = Napi::Uint16Array::New(env, records);
  Napi::Uint32Array event_slots = Napi::Uint32Array::New(env, static_cast<size_t>(capacity_));
  Napi::Float64Array counts = Napi::Float64Array::New(env, kCountSlots);
  received_ = received.Data();
  transmit_ = transmit.Data();
  heard_ = heard.Data();
  inbound_ = inbound.Data();
  inbound_slots_ = inbound_slots.Data();
  inbound_lengths_ = inbound_lengths.Data();
  outbox_ = outbox.Data();
  outbox_slots_ = outbox_slots.Data();
  outbox_lengths_ = outbox_lengths.Data();
  event_slots_ = event_slots.Data();
  counts_ = counts.Data();

  // One object holds every array, so the one reference keeps them all alive.
  Napi::Object buffers = Napi::Object::New(env);
  buffers.Set("capacity", capacity_);
  buffers.Set("samplesPerFrame", kSamplesPerFrame);
  buffers.Set("datagramStride", static_cast<double>(kMaxDatagramBytes));
  buffers.Set("received", received);
  buffers.Set("transmit", transmit);
  buffers.Set("heard", heard);
  buffers.Set("inbound", inbound);
  buffers.Set("inboundSlots", inbound_slots);
  buffers.Set("inboundLengths", inbound_lengths);
  buffers.Set("outbox", outbox);
  buffers.Set("outboxSlots", outbox_slots);
  buffers.Set("outboxLengths", outbox_lengths);
  buffers.Set("eventSlots", event_slots);
  buffers.Set("counts", counts);
  buffers_ = Napi::Persistent(buffers);
  TagAndRegister<SessionGroup>(info, registration_, [this] { Close(); });
}

SessionGroup::~SessionGroup() { Close(); }

void SessionGroup::Close() {
  if (closed_) return;
  closed_ = true;
  for (FaxSession*& session : slots_) {
    if (session != nullptr) session->LeaveGroup();
    session = nullptr;
  }
  size_ = 0;
  registration_.Unregister();
}

void SessionGroup::Detach(int slot) {
  if (slot < 0 || slot >= capacity_ || slots_[static_cast<size_t>(slot)] == nullptr) return;
  slots_[static_cast<size_t>(slot)] = nullptr;
  --size_;
}

void SessionGroup::RequireOpen(const Napi::CallbackInfo& info) const {
  if (closed_) throw Napi::Error::New(info.Env(), kClosed);
}

Napi::Value SessionGroup::JsAdd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireOpen(info);
  FaxSession* session = FaxSession::FromValue(env, Arg(info, 0));
  if (session == nullptr) ThrowType(env, "a FaxSession", "the session", Arg(info, 0));
  if (session->audio_terminal() == nullptr && session->t38_terminal() == nullptr)
    throw Napi::Error::New(env, "The fax session is closed");
  if (session->in_group()) throw Napi::Error::New(env, "The fax session is already in a group");
  const auto free_slot = std::find(slots_.begin(), slots_.end(), nullptr);
  if (free_slot == slots_.end())
    throw Napi::RangeError::New(
        env, "The session group is full (" + std::to_string(capacity_) + " sessions)");
  const int slot = static_cast<int>(free_slot - slots_.begin());
  *free_slot = session;
  ++size_;
  heard_[slot] = 0;
  session->JoinGroup(this, slot);
  return Napi::Number::New(env, slot);
}

Napi::Value SessionGroup::JsRemove(const Napi::CallbackInfo& info) {
  RequireOpen(info);
  const int slot = IntArg(info, 0, "the slot", 0, capacity_ - 1);
  FaxSession* session = slots_[static_cast<size_t>(slot)];
  if (session != nullptr) {
    Detach(slot);
    session->LeaveGroup();
  }
  return info.Env().Undefined();
}

Napi::Value SessionGroup::JsBuffers(const Napi::CallbackInfo& info) {
  RequireOpen(info);
  return buffers_.Value();
}

Napi::Value SessionGroup::JsSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), closed_ ? 0 : size_);
}

Napi::Value SessionGroup::JsClose(const Napi::CallbackInfo& info) {
  Close();
  return info.Env().Undefined();
}

void SessionGroup::DeliverInbound(size_t count) {
  for (size_t i = 0; i < count; ++i) {
    const uint32_t slot = inbound_slots_[i];
    const size_t length = inbound_lengths_[i];
    FaxSession* session = slot < slots_.size() ? slots_[slot] : nullptr;
    T38Terminal* t38 = session != nullptr ? session->t38_terminal() : nullptr;
    // A datagram for a slot that left or is not in T.38 (yet) is the far end's stray packet.
    if (t38 == nullptr || length > kMaxDatagramBytes) {
      ++dropped_inbound_;
      continue;
    }
    t38->ReceiveDatagram(inbound_ + i * kMaxDatagramBytes, length);
  }
  counts_[kDroppedInbound] = static_cast<double>(dropped_inbound_);
}

Napi::Value SessionGroup::JsDeliver(const Napi::CallbackInfo& info) {
  RequireOpen(info);
  const int count =
      IntArg(info, 0, "the inbound datagram count", 0, static_cast<int>(inbound_records_));
  DeliverInbound(static_cast<size_t>(count));
  return info.Env().Undefined();
}

bool SessionGroup::TakeDatagrams(int slot, FaxSession& session, size_t& records) {
  UdptlPort& port = session.t38_terminal()->port();
  const size_t pending = port.pending();
  if (pending == 0) return true;
  // All or none: a session's datagrams keep their order when a full outbox defers them.
  if (records + pending > outbox_records_) return false;
  const size_t n = port.Take();
  for (size_t i = 0; i < n; ++i, ++records) {
    const size_t length = port.DatagramLength(i);
    std::memcpy(outbox_ + records * kMaxDatagramBytes, port.Datagram(i), length);
    outbox_slots_[records] = static_cast<uint32_t>(slot);
    outbox_lengths_[records] = static_cast<uint16_t>(length);
  }
  return true;
}

// tick(inboundCount): delivers the inbound datagrams, then advances every slot by one 20 ms
// frame: an audio slot takes its received frame (or SpanDSP's fill-in when heard[slot] is 0)
// and fills its transmit frame; a T.38 slot ticks and its datagrams go to the outbox. Returns
// how many slots have events waiting (their numbers in eventSlots, in slot order).
Napi::Value SessionGroup::JsTick(const Napi::CallbackInfo& info) {
  RequireOpen(info);
  const int inbound =
      IntArg(info, 0, "the inbound datagram count", 0, static_cast<int>(inbound_records_));
  DeliverInbound(static_cast<size_t>(inbound));
  size_t records = 0;
  uint32_t event_slots = 0;
  for (int slot = 0; slot < capacity_; ++slot) {
    FaxSession* session = slots_[static_cast<size_t>(slot)];
    if (session == nullptr) continue;
    Terminal* terminal = nullptr;
    if (AudioTerminal* audio = session->audio_terminal()) {
      const size_t offset = static_cast<size_t>(slot) * kSamplesPerFrame;
      if (heard_[slot] != 0) {
        audio->Receive(received_ + offset, kSamplesPerFrame);
      } else {
        audio->ReceiveMissing(kSamplesPerFrame);
      }
      audio->Transmit(transmit_ + offset, kSamplesPerFrame);
      terminal = audio;
    } else if (T38Terminal* t38 = session->t38_terminal()) {
      t38->Tick(kSamplesPerFrame);
      if (!TakeDatagrams(slot, *session, records)) ++deferred_outbound_;
      terminal = t38;
    }
    if (terminal != nullptr && terminal->session().pending_events() > 0)
      event_slots_[event_slots++] = static_cast<uint32_t>(slot);
  }
  counts_[kOutboundDatagrams] = static_cast<double>(records);
  counts_[kEventSlots] = event_slots;
  counts_[kDeferredOutbound] = static_cast<double>(deferred_outbound_);
  return Napi::Number::New(info.Env(), event_slots);
}

void InitSessionGroup(Napi::Env env, Napi::Object exports) {
  exports.Set("SessionGroup", SessionGroup::DefineClass(env));
}

}  // namespace faxline::bindings
