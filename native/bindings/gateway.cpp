#include "bindings/gateway.h"

#include "bindings/args.h"
#include "bindings/convert.h"

namespace faxline::bindings {
namespace {

constexpr const char* kClosed = "The T.38 gateway is closed";

T38GatewayOptions GatewayOptionsFromJs(const Napi::Object& o) {
  Napi::Env env = o.Env();
  T38GatewayOptions g;
  const Napi::Value t38 = o.Get("t38");
  if (!t38.IsUndefined()) g.t38 = T38ConfigFromJs(t38, "options.t38");
  g.ecm = BoolProp(o, "ecm", g.ecm);
  g.modems = IntProp(o, "modems", g.modems, 0, 0xFFFF);
  try {
    ValidateT38GatewayOptions(g);
  } catch (const OptionError& e) {
    ThrowRange(env, e.what());
  }
  return g;
}

// A relayed frame: {type: 'frame', timeMs, from: 'audio' | 't38', name, bytes}.
Napi::Object GatewayEventToJs(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("type", "frame");
  o.Set("timeMs", static_cast<double>(e.sample_time) * 1000.0 / kSampleRate);
  o.Set("from", e.frame_incoming ? "t38" : "audio");
  const char* name = t30_frametype(e.frame_type);
  o.Set("name", name ? name : "");
  o.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, e.frame.data(), e.frame_length));
  return o;
}

}  // namespace

const napi_type_tag T38GatewayWrap::kTypeTag = NewTypeTag();

Napi::Function T38GatewayWrap::DefineClass(Napi::Env env) {
  return DefineTaggedClass<T38GatewayWrap>(
      env, {{"frameBuffers", Dispatch<&T38GatewayWrap::JsFrameBuffers>},
            {"datagramBuffers", Dispatch<&T38GatewayWrap::JsDatagramBuffers>},
            {"takeEvents", Dispatch<&T38GatewayWrap::JsTakeEvents>},
            {"stats", Dispatch<&T38GatewayWrap::JsStats>},
            {"udptlStats", Dispatch<&T38GatewayWrap::JsUdptlStats>},
            {"elapsedMs", Dispatch<&T38GatewayWrap::JsElapsedMs>},
            {"close", Dispatch<&T38GatewayWrap::JsClose>},
            {"closed", Dispatch<&T38GatewayWrap::JsClosed>}});
}

// new T38Gateway(options?): options {t38?, ecm?, modems?}.
T38GatewayWrap::T38GatewayWrap(const Napi::CallbackInfo& info) : ObjectWrap<T38GatewayWrap>(info) {
  Napi::Env env = info.Env();
  RequireConstructCall<T38GatewayWrap>(info);
  const T38GatewayOptions options = Arg(info, 0).IsUndefined()
                                        ? T38GatewayOptions{}
                                        : GatewayOptionsFromJs(ObjectArg(info, 0, "options"));
  try {
    gateway_ = std::make_unique<T38Gateway>(options);
  } catch (const OptionError& e) {
    ThrowRange(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("cannot create the T.38 gateway: ") + e.what());
  }
  TagAndRegister<T38GatewayWrap>(info, registration_, [this] { Release(); });
}

T38GatewayWrap::~T38GatewayWrap() { Release(); }

void T38GatewayWrap::Release() {
  if (frame_line_) frame_line_->gateway = nullptr;
  if (datagram_line_) {
    datagram_line_->gateway = nullptr;
    datagram_line_->port = nullptr;
  }
  gateway_.reset();
  std::vector<Event>().swap(scratch_events_);
  registration_.Unregister();
}

T38Gateway& T38GatewayWrap::Open(const Napi::CallbackInfo& info) {
  if (!gateway_) throw Napi::Error::New(info.Env(), kClosed);
  return *gateway_;
}

Napi::Value T38GatewayWrap::JsFrameBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  T38Gateway& gateway = Open(info);
  if (!frame_line_) {
    frame_line_ = std::make_shared<FrameLine>();
    frame_line_->gateway = &gateway;
    MakeFrameBuffers(env, frame_line_, ProcessFrame<false>, ProcessFrame<true>, frame_buffers_);
  }
  return frame_buffers_.object.Value();
}

// One 20 ms audio frame each way; returns the pending event count.
template <bool lost>
Napi::Value T38GatewayWrap::ProcessFrame(const Napi::CallbackInfo& info) {
  const FrameLine& line = LineOf<FrameLine>(info);
  if (line.gateway == nullptr) throw Napi::Error::New(info.Env(), kClosed);
  if (lost) {
    line.gateway->ReceiveMissing(kSamplesPerFrame);
  } else {
    line.gateway->Receive(line.received, kSamplesPerFrame);
  }
  line.gateway->Transmit(line.transmit, kSamplesPerFrame);
  return Napi::Number::New(info.Env(), static_cast<double>(line.gateway->pending_events()));
}

Napi::Value T38GatewayWrap::JsDatagramBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  T38Gateway& gateway = Open(info);
  if (!datagram_line_) {
    datagram_line_ = std::make_shared<DatagramLine>();
    datagram_line_->port = &gateway.port();
    datagram_line_->gateway = &gateway;
    MakeDatagramBuffers(env, datagram_line_,
                        {{"receive", DatagramReceive},
                         {"take", DatagramTake},
                         {"pendingEvents", DatagramPendingEvents}},
                        datagram_buffers_);
  }
  return datagram_buffers_.object.Value();
}

// receive(length): decodes inbound[0, length) as one datagram; returns the pending event count.
Napi::Value T38GatewayWrap::DatagramReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DatagramLine& line = LineOf<DatagramLine>(info);
  if (line.gateway == nullptr) throw Napi::Error::New(env, kClosed);
  const int length =
      IntArg(info, 0, "the datagram length", 0, static_cast<int>(line.inbound_length));
  line.gateway->ReceiveDatagram(line.inbound, static_cast<size_t>(length));
  return Napi::Number::New(env, static_cast<double>(line.gateway->pending_events()));
}

// take(): copies the datagrams queued since the last take into the outbox; returns how many.
Napi::Value T38GatewayWrap::DatagramTake(const Napi::CallbackInfo& info) {
  DatagramLine& line = LineOf<DatagramLine>(info);
  if (line.gateway == nullptr) throw Napi::Error::New(info.Env(), kClosed);
  return Napi::Number::New(info.Env(), static_cast<double>(TakeIntoOutbox(line)));
}

Napi::Value T38GatewayWrap::DatagramPendingEvents(const Napi::CallbackInfo& info) {
  DatagramLine& line = LineOf<DatagramLine>(info);
  if (line.gateway == nullptr) throw Napi::Error::New(info.Env(), kClosed);
  return Napi::Number::New(info.Env(), static_cast<double>(line.gateway->pending_events()));
}

Napi::Value T38GatewayWrap::JsTakeEvents(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Open(info).TakeEvents(scratch_events_);
  Napi::Array a = Napi::Array::New(env, scratch_events_.size());
  for (size_t i = 0; i < scratch_events_.size(); ++i)
    a.Set(static_cast<uint32_t>(i), GatewayEventToJs(env, scratch_events_[i]));
  return a;
}

Napi::Value T38GatewayWrap::JsStats(const Napi::CallbackInfo& info) {
  const T38GatewayStats s = Open(info).stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("bitRate", s.bit_rate);
  o.Set("ecm", s.ecm);
  o.Set("pagesTransferred", s.pages_transferred);
  return o;
}

Napi::Value T38GatewayWrap::JsUdptlStats(const Napi::CallbackInfo& info) {
  return UdptlStatsToJs(info.Env(), Open(info).port());
}

Napi::Value T38GatewayWrap::JsElapsedMs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(
      info.Env(), static_cast<double>(Open(info).elapsed_samples()) * 1000.0 / kSampleRate);
}

Napi::Value T38GatewayWrap::JsClose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

Napi::Value T38GatewayWrap::JsClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !gateway_);
}

void InitGateway(Napi::Env env, Napi::Object exports) {
  exports.Set("T38Gateway", T38GatewayWrap::DefineClass(env));
}

}  // namespace faxline::bindings
