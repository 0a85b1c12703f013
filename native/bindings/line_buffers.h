// The real-time paths FaxSession and T38Gateway share with JS: typed arrays that JS and the
// engine read and write in place, and functions bound to the line they drive. Bound functions
// skip the type-tag check and unwrap a method call needs: the per-frame (or per-datagram) cost
// is then little more than SpanDSP's own work.
//
// Ownership: a line is held by its owner and by every function bound to it, which may outlive
// the owner; the owner nulls the line's engine pointers when it closes, and the bound functions
// then throw. The typed arrays are kept alive by the owner's references, on their own: JS may
// replace the handed-out object's properties.
#pragma once

#include <napi.h>

#include <initializer_list>
#include <memory>
#include <utility>

#include "engine/terminal.h"
#include "engine/udptl_port.h"

namespace faxline {
class T38Gateway;
class T38Terminal;
}  // namespace faxline

namespace faxline::bindings {

// The line a function made by BindToLine was bound to.
template <typename Line>
Line& LineOf(const Napi::CallbackInfo& info) {
  return **static_cast<std::shared_ptr<Line>*>(info.Data());
}

// A JS function named `name` that runs `callback` with `line` reachable through LineOf; the
// function holds its own share of the line until it is garbage collected.
template <typename Line>
Napi::Function BindToLine(Napi::Env env, const char* name, Napi::Function::Callback callback,
                          const std::shared_ptr<Line>& line) {
  auto* held = new std::shared_ptr<Line>(line);
  Napi::Function f = Napi::Function::New(env, callback, name, held);
  f.AddFinalizer([](Napi::Env, std::shared_ptr<Line>* l) { delete l; }, held);
  return f;
}

// The audio path: one 20 ms frame in each direction. A Line type has `int16_t* received` and
// `int16_t* transmit`, which MakeFrameBuffers points into the arrays it makes.
struct FrameBuffersRefs {
  Napi::ObjectReference object;
  Napi::Reference<Napi::Int16Array> received;
  Napi::Reference<Napi::Int16Array> transmit;
};

// The JS object of a frame line: {received, transmit} (kSamplesPerFrame samples each) and
// process/processLost bound to `line`; kept alive by `refs`.
template <typename Line>
Napi::Object MakeFrameBuffers(Napi::Env env, const std::shared_ptr<Line>& line,
                              Napi::Function::Callback process,
                              Napi::Function::Callback process_lost, FrameBuffersRefs& refs) {
  Napi::Int16Array received = Napi::Int16Array::New(env, kSamplesPerFrame);
  Napi::Int16Array transmit = Napi::Int16Array::New(env, kSamplesPerFrame);
  line->received = received.Data();
  line->transmit = transmit.Data();
  Napi::Object buffers = Napi::Object::New(env);
  buffers.Set("received", received);
  buffers.Set("transmit", transmit);
  buffers.Set("process", BindToLine(env, "processFrame", process, line));
  buffers.Set("processLost", BindToLine(env, "processLostFrame", process_lost, line));
  refs.object = Napi::Persistent(buffers);
  refs.received = Napi::Persistent(received);
  refs.transmit = Napi::Persistent(transmit);
  return buffers;
}

// The T.38 path of a session or a gateway: an inbound datagram buffer and an outbox. `port`
// (and the entity) are null once the owner is closed.
struct DatagramLine {
  UdptlPort* port = nullptr;
  T38Terminal* terminal = nullptr;  // a session's; null for a gateway
  T38Gateway* gateway = nullptr;    // a gateway's; null for a session
  uint8_t* inbound = nullptr;
  size_t inbound_length = 0;
  uint8_t* outbox = nullptr;
  uint16_t* lengths = nullptr;
  const char* unavailable = "closed";  // why port is null, for the error the functions throw
};

struct DatagramBuffersRefs {
  Napi::ObjectReference object;
  Napi::Reference<Napi::Uint8Array> inbound;
  Napi::Reference<Napi::Uint8Array> outbox;
  Napi::Reference<Napi::Uint16Array> lengths;
};

// Copies the datagrams the port queued since it was last taken into the line's outbox and
// lengths; returns how many.
size_t TakeIntoOutbox(DatagramLine& line);

// The JS object of a DatagramLine: {inbound, outbox, lengths} and the functions given, each
// bound to `line`; kept alive by `refs`.
Napi::Object MakeDatagramBuffers(
    Napi::Env env, const std::shared_ptr<DatagramLine>& line,
    std::initializer_list<std::pair<const char*, Napi::Function::Callback>> functions,
    DatagramBuffersRefs& refs);

}  // namespace faxline::bindings
