// SessionGroup: many FaxSessions advanced by one native call per 20 ms tick.
//
// A per-frame N-API call per session costs more than SpanDSP's own work on a T.38 tick and a
// good share of an audio frame's; a media server with a thousand calls cannot afford a
// thousand calls into the addon every 20 ms. A group holds its sessions in slots over flat
// typed arrays shared with JS, sized once at construction: the received and transmitted audio
// of every slot, the UDPTL datagrams received since the last tick and those to send, and the
// slots whose sessions have events waiting. One tick() feeds every slot, allocates nothing,
// and delivers no events: JS reads them after it returns.
//
// Ownership: a group does not own its sessions; each side holds a pointer to the other and
// clears it when it goes (a session closed or collected leaves its slot; a group closed or
// collected releases all of its sessions, which can then be driven on their own again).
// While a session is in a group, its own per-frame calls throw. Every call after close()
// throws. Used from one thread.
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

#include "bindings/tagged_class.h"

namespace faxline::bindings {

class FaxSession;

class SessionGroup : public Napi::ObjectWrap<SessionGroup> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit SessionGroup(const Napi::CallbackInfo& info);
  ~SessionGroup() override;

  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "SessionGroup";

  // Called by a session that closes or is collected while in the group.
  void Detach(int slot);

 private:
  Napi::Value JsAdd(const Napi::CallbackInfo& info);
  Napi::Value JsRemove(const Napi::CallbackInfo& info);
  Napi::Value JsBuffers(const Napi::CallbackInfo& info);
  Napi::Value JsDeliver(const Napi::CallbackInfo& info);
  Napi::Value JsTick(const Napi::CallbackInfo& info);
  Napi::Value JsSize(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);

  void RequireOpen(const Napi::CallbackInfo& info) const;
  // Hands the first `count` inbound datagrams to their slots' T.38 terminals.
  void DeliverInbound(size_t count);
  // Copies what slot's T.38 terminal queued into the outbox; false when it does not fit.
  bool TakeDatagrams(int slot, FaxSession& session, size_t& records);
  void Close();

  bool closed_ = false;
  int capacity_ = 0;
  size_t inbound_records_ = 0;
  size_t outbox_records_ = 0;
  std::vector<FaxSession*> slots_;
  int size_ = 0;
  uint64_t dropped_inbound_ = 0;
  uint64_t deferred_outbound_ = 0;

  // The shared arrays (see JsBuffers): JS and the tick read and write them in place.
  Napi::ObjectReference buffers_;
  int16_t* received_ = nullptr;
  int16_t* transmit_ = nullptr;
  uint8_t* heard_ = nullptr;
  uint8_t* inbound_ = nullptr;
  uint32_t* inbound_slots_ = nullptr;
  uint16_t* inbound_lengths_ = nullptr;
  uint8_t* outbox_ = nullptr;
  uint32_t* outbox_slots_ = nullptr;
  uint16_t* outbox_lengths_ = nullptr;
  uint32_t* event_slots_ = nullptr;
  double* counts_ = nullptr;
  OpenRegistration registration_;
};

void InitSessionGroup(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
