#include "bindings/line_buffers.h"

#include <cstring>

namespace faxline::bindings {

size_t TakeIntoOutbox(DatagramLine& line) {
  const size_t n = line.port->Take();
  for (size_t i = 0; i < n; ++i) {
    const size_t length = line.port->DatagramLength(i);
    std::memcpy(line.outbox + i * kMaxDatagramBytes, line.port->Datagram(i), length);
    line.lengths[i] = static_cast<uint16_t>(length);
  }
  return n;
}

Napi::Object MakeDatagramBuffers(
    Napi::Env env, const std::shared_ptr<DatagramLine>& line,
    std::initializer_list<std::pair<const char*, Napi::Function::Callback>> functions,
    DatagramBuffersRefs& refs) {
  Napi::Uint8Array inbound = Napi::Uint8Array::New(env, kMaxDatagramBytes);
  Napi::Uint8Array outbox = Napi::Uint8Array::New(env, kOutboxDatagrams * kMaxDatagramBytes);
  Napi::Uint16Array lengths = Napi::Uint16Array::New(env, kOutboxDatagrams);
  line->inbound = inbound.Data();
  line->inbound_length = inbound.ElementLength();
  line->outbox = outbox.Data();
  line->lengths = lengths.Data();
  Napi::Object buffers = Napi::Object::New(env);
  buffers.Set("inbound", inbound);
  buffers.Set("outbox", outbox);
  buffers.Set("lengths", lengths);
  for (const auto& [name, callback] : functions)
    buffers.Set(name, BindToLine(env, name, callback, line));
  refs.object = Napi::Persistent(buffers);
  refs.inbound = Napi::Persistent(inbound);
  refs.outbox = Napi::Persistent(outbox);
  refs.lengths = Napi::Persistent(lengths);
  return buffers;
}

}  // namespace faxline::bindings
