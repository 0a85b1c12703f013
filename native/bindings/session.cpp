#include "bindings/session.h"

#include "bindings/args.h"
#include "bindings/convert.h"

namespace faxline::bindings {
namespace {

// A frame batch larger than this is a caller bug, not a real-time frame: 10 s of audio.
constexpr size_t kMaxSamplesPerCall = 10 * kSampleRate;

void CheckLength(Napi::Env env, size_t length, const char* what) {
  if (length > kMaxSamplesPerCall)
    ThrowRange(env, std::string(what) + " holds " + std::to_string(length) +
                        " samples; at most 80000 (10 s) per call");
}

}  // namespace

const napi_type_tag FaxSession::kTypeTag = {0x6661786c696e6531ULL, 0x73657373696f6e31ULL};

Napi::Function FaxSession::DefineClass(Napi::Env env) {
  return DefineTaggedClass<FaxSession>(env,
                                       {{"process", Dispatch<&FaxSession::JsProcess>},
                                        {"frameBuffers", Dispatch<&FaxSession::JsFrameBuffers>},
                                        {"receive", Dispatch<&FaxSession::JsReceive>},
                                        {"receiveMissing", Dispatch<&FaxSession::JsReceiveMissing>},
                                        {"transmit", Dispatch<&FaxSession::JsTransmit>},
                                        {"takeEvents", Dispatch<&FaxSession::JsTakeEvents>},
                                        {"hangUp", Dispatch<&FaxSession::JsHangUp>},
                                        {"close", Dispatch<&FaxSession::JsClose>},
                                        {"finished", Dispatch<&FaxSession::JsFinished>},
                                        {"result", Dispatch<&FaxSession::JsResult>},
                                        {"elapsedMs", Dispatch<&FaxSession::JsElapsedMs>},
                                        {"closed", Dispatch<&FaxSession::JsClosed>}});
}

FaxSession::FaxSession(const Napi::CallbackInfo& info) : ObjectWrap<FaxSession>(info) {
  Napi::Env env = info.Env();
  if (!info.IsConstructCall())
    throw Napi::TypeError::New(env, "FaxSession must be called with new");
  const TerminalOptions options = TerminalOptionsFromJs(ObjectArg(info, 0, "options"));
  try {
    terminal_ = std::make_unique<AudioTerminal>(options);
  } catch (const OptionError& e) {
    ThrowRange(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("cannot create the fax terminal: ") + e.what());
  }
  if (!TagObject(env, info.This(), kTypeTag))
    throw Napi::Error::New(env, "cannot tag the FaxSession object");
  registration_.Register(env, [this] { ReleaseTerminal(); });
}

FaxSession::~FaxSession() { Close(); }

void FaxSession::ReleaseTerminal() {
  if (frame_line_) frame_line_->terminal = nullptr;
  terminal_.reset();
}

void FaxSession::Close() {
  ReleaseTerminal();
  // Release now: the wrapper itself may wait a long time for its finalizer.
  std::vector<Event>().swap(scratch_events_);
  registration_.Unregister();
}

AudioTerminal& FaxSession::Open(const Napi::CallbackInfo& info) {
  if (!terminal_) throw Napi::Error::New(info.Env(), "The fax session is closed");
  return *terminal_;
}

Napi::Value FaxSession::JsProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AudioTerminal& t = Open(info);
  const Int16View out = Int16ViewArg(info, 1, "the transmit buffer");
  CheckLength(env, out.length, "the transmit buffer");
  const int count = static_cast<int>(out.length);
  Int16View in;
  // The common case, a received frame, costs one query; null/undefined only on the miss path.
  if (TryInt16View(env, info[0], in)) {
    if (in.length != out.length)
      ThrowRange(env, "the received samples (" + std::to_string(in.length) +
                          ") and the transmit buffer (" + std::to_string(out.length) +
                          ") must have the same length");
    t.Receive(in.data, count);
  } else if (info[0].IsNull() || info[0].IsUndefined()) {
    t.ReceiveMissing(count);
  } else {
    ThrowType(env, "an Int16Array or null", "the received samples", info[0]);
  }
  t.Transmit(out.data, count);
  return Napi::Number::New(env, static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsFrameBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AudioTerminal& terminal = Open(info);
  if (!frame_line_) {
    Napi::Int16Array received = Napi::Int16Array::New(env, kSamplesPerFrame);
    Napi::Int16Array transmit = Napi::Int16Array::New(env, kSamplesPerFrame);
    frame_line_ =
        std::make_shared<FrameLine>(FrameLine{&terminal, received.Data(), transmit.Data()});
    // Functions bound to the line skip the type-tag check and unwrap a method call needs:
    // the per-frame cost is then little more than SpanDSP's own work.
    auto bind = [&](const char* name, Napi::Function::Callback callback) {
      auto* line = new std::shared_ptr<FrameLine>(frame_line_);
      Napi::Function f = Napi::Function::New(env, callback, name, line);
      f.AddFinalizer([](Napi::Env, std::shared_ptr<FrameLine>* l) { delete l; }, line);
      return f;
    };
    Napi::Object buffers = Napi::Object::New(env);
    buffers.Set("received", received);
    buffers.Set("transmit", transmit);
    buffers.Set("process", bind("processFrame", ProcessFrame<false>));
    buffers.Set("processLost", bind("processLostFrame", ProcessFrame<true>));
    frame_buffers_ref_ = Napi::Persistent(buffers);
    frame_received_ref_ = Napi::Persistent(received);
    frame_transmit_ref_ = Napi::Persistent(transmit);
  }
  return frame_buffers_ref_.Value();
}

template <bool lost>
Napi::Value FaxSession::ProcessFrame(const Napi::CallbackInfo& info) {
  const FrameLine& line = **static_cast<std::shared_ptr<FrameLine>*>(info.Data());
  if (line.terminal == nullptr) throw Napi::Error::New(info.Env(), "The fax session is closed");
  if (lost) {
    line.terminal->ReceiveMissing(kSamplesPerFrame);
  } else {
    line.terminal->Receive(line.received, kSamplesPerFrame);
  }
  line.terminal->Transmit(line.transmit, kSamplesPerFrame);
  return Napi::Number::New(info.Env(),
                           static_cast<double>(line.terminal->session().pending_events()));
}

Napi::Value FaxSession::JsReceive(const Napi::CallbackInfo& info) {
  AudioTerminal& t = Open(info);
  const Int16View in = Int16ViewArg(info, 0, "the received samples");
  CheckLength(info.Env(), in.length, "the received samples");
  t.Receive(in.data, static_cast<int>(in.length));
  return Napi::Number::New(info.Env(), static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsReceiveMissing(const Napi::CallbackInfo& info) {
  AudioTerminal& t = Open(info);
  t.ReceiveMissing(IntArg(info, 0, "the missing sample count", 0, kMaxSamplesPerCall));
  return Napi::Number::New(info.Env(), static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsTransmit(const Napi::CallbackInfo& info) {
  AudioTerminal& t = Open(info);
  const Int16View out = Int16ViewArg(info, 0, "the transmit buffer");
  CheckLength(info.Env(), out.length, "the transmit buffer");
  t.Transmit(out.data, static_cast<int>(out.length));
  return Napi::Number::New(info.Env(), static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsTakeEvents(const Napi::CallbackInfo& info) {
  AudioTerminal& t = Open(info);
  t.session().TakeEvents(scratch_events_);
  return EventsToJs(info.Env(), scratch_events_);
}

Napi::Value FaxSession::JsHangUp(const Napi::CallbackInfo& info) {
  Open(info).HangUp();
  return info.Env().Undefined();
}

Napi::Value FaxSession::JsClose(const Napi::CallbackInfo& info) {
  Close();
  return info.Env().Undefined();
}

Napi::Value FaxSession::JsFinished(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), Open(info).session().finished());
}

Napi::Value FaxSession::JsResult(const Napi::CallbackInfo& info) {
  const T30Session& s = Open(info).session();
  if (!s.finished()) return info.Env().Null();
  return ResultToJs(info.Env(), s.result());
}

Napi::Value FaxSession::JsElapsedMs(const Napi::CallbackInfo& info) {
  const int64_t samples = Open(info).session().elapsed_samples();
  return Napi::Number::New(info.Env(), static_cast<double>(samples) * 1000.0 / kSampleRate);
}

Napi::Value FaxSession::JsClosed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !terminal_);
}

void InitSession(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = FaxSession::DefineClass(env);
  GetAddonState(env).session_constructor = Napi::Persistent(ctor);
  exports.Set("FaxSession", ctor);
}

}  // namespace faxline::bindings
