#include "bindings/session.h"

#include <algorithm>

#include "bindings/args.h"
#include "bindings/convert.h"
#include "bindings/session_group.h"

namespace faxline::bindings {
namespace {

// A frame batch larger than this is a caller bug, not a real-time frame: 10 s of audio.
constexpr size_t kMaxSamplesPerCall = 10 * kSampleRate;

void CheckLength(Napi::Env env, size_t length, const char* what) {
  if (length > kMaxSamplesPerCall)
    ThrowRange(env, std::string(what) + " holds " + std::to_string(length) +
                        " samples; at most 80000 (10 s) per call");
}

constexpr const char* kClosed = "The fax session is closed";
constexpr const char* kInT38 = "The fax session is in T.38 mode";
constexpr const char* kInAudio = "The fax session is in audio mode: switch it to T.38 first";
constexpr const char* kInGroup =
    "The fax session is driven by a SessionGroup: its group ticks it, not its own calls";

// A tick's return value: the datagram count (below 65536: the outbox holds 64) plus this many
// per pending event, so the real-time path needs no second call to learn of events.
constexpr size_t kTickEventsUnit = 0x10000;

// The tick bound: one call may advance at most 10 s of line time.
constexpr int kMaxTickSamples = 10 * kSampleRate;

}  // namespace

const napi_type_tag FaxSession::kTypeTag = NewTypeTag();

Napi::Function FaxSession::DefineClass(Napi::Env env) {
  return DefineTaggedClass<FaxSession>(
      env, {{"process", Dispatch<&FaxSession::JsProcess>},
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
            {"closed", Dispatch<&FaxSession::JsClosed>},
            {"medium", Dispatch<&FaxSession::JsMedium>},
            {"datagramBuffers", Dispatch<&FaxSession::JsDatagramBuffers>},
            {"switchToT38", Dispatch<&FaxSession::JsSwitchToT38>},
            {"udptlStats", Dispatch<&FaxSession::JsUdptlStats>}});
}

FaxSession::FaxSession(const Napi::CallbackInfo& info) : ObjectWrap<FaxSession>(info) {
  Napi::Env env = info.Env();
  RequireConstructCall<FaxSession>(info);
  const Napi::Object js_options = ObjectArg(info, 0, "options");
  const TerminalOptions options = TerminalOptionsFromJs(js_options);
  const Napi::Value t38 = js_options.Get("t38");
  try {
    if (t38.IsUndefined()) {
      auto audio = std::make_unique<AudioTerminal>(options);
      audio_ = audio.get();
      terminal_ = std::move(audio);
    } else {
      auto terminal = std::make_unique<T38Terminal>(options, T38ConfigFromJs(t38, "options.t38"));
      t38_ = terminal.get();
      terminal_ = std::move(terminal);
    }
  } catch (const Napi::Error&) {
    throw;
  } catch (const OptionError& e) {
    ThrowRange(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("cannot create the fax terminal: ") + e.what());
  }
  TagAndRegister<FaxSession>(info, registration_, [this] { ReleaseTerminal(); });
}

FaxSession::~FaxSession() { Close(); }

FaxSession* FaxSession::FromValue(Napi::Env env, Napi::Value value) {
  if (!HasTag(env, value, kTypeTag)) return nullptr;
  return Unwrap(value.As<Napi::Object>());
}

void FaxSession::UpdateLines() {
  const char* why = !terminal_ ? kClosed : group_ != nullptr ? kInGroup : nullptr;
  if (frame_line_) {
    frame_line_->terminal = why == nullptr ? audio_ : nullptr;
    frame_line_->unavailable = why != nullptr ? why : kInT38;
  }
  if (datagram_line_) {
    T38Terminal* t38 = why == nullptr ? t38_ : nullptr;
    datagram_line_->terminal = t38;
    datagram_line_->port = t38 != nullptr ? &t38->port() : nullptr;
    datagram_line_->unavailable = why != nullptr ? why : kInAudio;
  }
}

void FaxSession::JoinGroup(SessionGroup* group, int slot) {
  group_ = group;
  group_slot_ = slot;
  UpdateLines();
}

void FaxSession::LeaveGroup() {
  group_ = nullptr;
  group_slot_ = -1;
  UpdateLines();
}

void FaxSession::ReleaseTerminal() {
  audio_ = nullptr;
  t38_ = nullptr;
  terminal_.reset();
  UpdateLines();
}

void FaxSession::Close() {
  ReleaseTerminal();
  if (group_ != nullptr) {
    group_->Detach(group_slot_);
    LeaveGroup();
  }
  // Release now: the wrapper itself may wait a long time for its finalizer.
  std::vector<Event>().swap(scratch_events_);
  registration_.Unregister();
}

Terminal& FaxSession::Open(const Napi::CallbackInfo& info) {
  if (!terminal_) throw Napi::Error::New(info.Env(), kClosed);
  return *terminal_;
}

AudioTerminal& FaxSession::Audio(const Napi::CallbackInfo& info) {
  Open(info);
  if (group_ != nullptr) throw Napi::Error::New(info.Env(), kInGroup);
  if (audio_ == nullptr) throw Napi::Error::New(info.Env(), kInT38);
  return *audio_;
}

T38Terminal& FaxSession::T38(const Napi::CallbackInfo& info) {
  Open(info);
  if (group_ != nullptr) throw Napi::Error::New(info.Env(), kInGroup);
  if (t38_ == nullptr) throw Napi::Error::New(info.Env(), kInAudio);
  return *t38_;
}

Napi::Value FaxSession::JsProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  AudioTerminal& t = Audio(info);
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
  AudioTerminal& terminal = Audio(info);
  if (!frame_line_) {
    frame_line_ = std::make_shared<FrameLine>();
    frame_line_->terminal = &terminal;
    MakeFrameBuffers(env, frame_line_, ProcessFrame<false>, ProcessFrame<true>, frame_buffers_);
  }
  return frame_buffers_.object.Value();
}

template <bool lost>
Napi::Value FaxSession::ProcessFrame(const Napi::CallbackInfo& info) {
  const FrameLine& line = LineOf<FrameLine>(info);
  if (line.terminal == nullptr) throw Napi::Error::New(info.Env(), line.unavailable);
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
  AudioTerminal& t = Audio(info);
  const Int16View in = Int16ViewArg(info, 0, "the received samples");
  CheckLength(info.Env(), in.length, "the received samples");
  t.Receive(in.data, static_cast<int>(in.length));
  return Napi::Number::New(info.Env(), static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsReceiveMissing(const Napi::CallbackInfo& info) {
  AudioTerminal& t = Audio(info);
  t.ReceiveMissing(IntArg(info, 0, "the missing sample count", 0, kMaxSamplesPerCall));
  return Napi::Number::New(info.Env(), static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsTransmit(const Napi::CallbackInfo& info) {
  AudioTerminal& t = Audio(info);
  const Int16View out = Int16ViewArg(info, 0, "the transmit buffer");
  CheckLength(info.Env(), out.length, "the transmit buffer");
  t.Transmit(out.data, static_cast<int>(out.length));
  return Napi::Number::New(info.Env(), static_cast<double>(t.session().pending_events()));
}

Napi::Value FaxSession::JsTakeEvents(const Napi::CallbackInfo& info) {
  Terminal& t = Open(info);
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

Napi::Value FaxSession::JsMedium(const Napi::CallbackInfo& info) {
  Open(info);
  return Napi::String::New(info.Env(), t38_ != nullptr ? "t38" : "audio");
}

Napi::Value FaxSession::JsDatagramBuffers(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  T38Terminal& terminal = T38(info);
  if (!datagram_line_) {
    datagram_line_ = std::make_shared<DatagramLine>();
    datagram_line_->port = &terminal.port();
    datagram_line_->terminal = &terminal;
    MakeDatagramBuffers(env, datagram_line_,
                        {{"receive", DatagramReceive},
                         {"tick", DatagramTick},
                         {"pendingEvents", DatagramPendingEvents}},
                        datagram_buffers_);
  }
  return datagram_buffers_.object.Value();
}

Napi::Value FaxSession::DatagramReceive(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DatagramLine& line = LineOf<DatagramLine>(info);
  if (line.terminal == nullptr) throw Napi::Error::New(env, line.unavailable);
  const int length =
      IntArg(info, 0, "the datagram length", 0, static_cast<int>(line.inbound_length));
  line.terminal->ReceiveDatagram(line.inbound, static_cast<size_t>(length));
  return Napi::Number::New(env, static_cast<double>(line.terminal->session().pending_events()));
}

Napi::Value FaxSession::DatagramTick(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  DatagramLine& line = LineOf<DatagramLine>(info);
  if (line.terminal == nullptr) throw Napi::Error::New(env, line.unavailable);
  line.terminal->Tick(IntArg(info, 0, "the tick's samples", 1, kMaxTickSamples));
  // One call per tick says both what to send and whether events wait (see kTickEventsUnit).
  const size_t datagrams = TakeIntoOutbox(line);
  const size_t events = std::min<size_t>(line.terminal->session().pending_events(), 0x7FFF);
  return Napi::Number::New(env, static_cast<double>(datagrams + events * kTickEventsUnit));
}

Napi::Value FaxSession::DatagramPendingEvents(const Napi::CallbackInfo& info) {
  DatagramLine& line = LineOf<DatagramLine>(info);
  if (line.terminal == nullptr) throw Napi::Error::New(info.Env(), line.unavailable);
  return Napi::Number::New(info.Env(),
                           static_cast<double>(line.terminal->session().pending_events()));
}

Napi::Value FaxSession::JsSwitchToT38(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Terminal& current = Open(info);
  if (t38_ != nullptr) throw Napi::Error::New(env, "The fax session is already in T.38 mode");
  if (current.session().finished())
    throw Napi::Error::New(env, "The fax session has finished: it cannot switch to T.38");
  const T38Config config = T38ConfigFromJs(Arg(info, 0), "the T.38 settings");
  // The same call, so the same options; its pages were checked when the audio terminal was
  // made, and T.30 starts over in T.38 mode (as a T.38 re-INVITE does to a fax machine).
  TerminalOptions options = current.session().options();
  options.decode_pages = false;
  std::unique_ptr<T38Terminal> next;
  try {
    next = std::make_unique<T38Terminal>(options, config);
  } catch (const OptionError& e) {
    ThrowRange(env, e.what());
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, std::string("cannot create the T.38 terminal: ") + e.what());
  }
  next->session().ContinueFrom(current.session());
  audio_ = nullptr;
  t38_ = next.get();
  terminal_ = std::move(next);
  UpdateLines();
  return env.Undefined();
}

Napi::Value FaxSession::JsUdptlStats(const Napi::CallbackInfo& info) {
  Open(info);
  if (t38_ == nullptr) return info.Env().Null();
  return UdptlStatsToJs(info.Env(), t38_->port());
}

void InitSession(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = FaxSession::DefineClass(env);
  exports.Set("FaxSession", ctor);
}

}  // namespace faxline::bindings
