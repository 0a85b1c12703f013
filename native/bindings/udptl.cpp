#include "bindings/udptl.h"

#include <array>
#include <new>
#include <string>
#include <vector>

#include "bindings/args.h"
#include "bindings/convert.h"

namespace faxline::bindings {
namespace {

// What one decode delivered, gathered before any JS value is made: the deliver callback
// must not call into JS (nor throw) from inside Udptl::Receive.
struct Gathered {
  std::vector<uint16_t> seqs;
  std::vector<size_t> ends;  // where each IFP ends in bytes
  std::vector<uint8_t> bytes;
  bool failed = false;
};

void Gather(void* context, uint16_t seq, const uint8_t* ifp, size_t length) {
  auto* g = static_cast<Gathered*>(context);
  if (g->failed) return;
  try {
    g->seqs.push_back(seq);
    g->bytes.insert(g->bytes.end(), ifp, ifp + length);
    g->ends.push_back(g->bytes.size());
  } catch (const std::bad_alloc&) {
    g->failed = true;
  }
}

Napi::Uint8Array CopyBytes(Napi::Env env, const uint8_t* data, size_t length) {
  Napi::Uint8Array out = Napi::Uint8Array::New(env, length);
  for (size_t i = 0; i < length; ++i) out[i] = data[i];
  return out;
}

}  // namespace

const napi_type_tag UdptlWrap::kTypeTag = NewTypeTag();

Napi::Function UdptlWrap::DefineClass(Napi::Env env) {
  return DefineTaggedClass<UdptlWrap>(env,
                                      {{"encode", Dispatch<&UdptlWrap::JsEncode>},
                                       {"decode", Dispatch<&UdptlWrap::JsDecode>},
                                       {"stats", Dispatch<&UdptlWrap::JsStats>},
                                       {"nextSequence", Dispatch<&UdptlWrap::JsNextSequence>},
                                       {"setNextSequence", Dispatch<&UdptlWrap::JsSetNextSequence>},
                                       {"setMaxDatagram", Dispatch<&UdptlWrap::JsSetMaxDatagram>},
                                       {"close", Dispatch<&UdptlWrap::JsClose>}});
}

// new Udptl({errorCorrection: 0 none | 1 redundancy | 2 fec, redundancy, fecSpan, fecEntries,
// maxDatagram}): absent properties take the engine's defaults.
UdptlWrap::UdptlWrap(const Napi::CallbackInfo& info) : ObjectWrap<UdptlWrap>(info) {
  Napi::Env env = info.Env();
  RequireConstructCall<UdptlWrap>(info);
  const Napi::Object o = ObjectArg(info, 0, "options");
  UdptlConfig config;
  const int ec = IntProp(o, "errorCorrection", 1, 0, 2);
  config.error_correction = ec == 0   ? UdptlErrorCorrection::kNone
                            : ec == 1 ? UdptlErrorCorrection::kRedundancy
                                      : UdptlErrorCorrection::kFec;
  config.redundancy = IntProp(o, "redundancy", config.redundancy, 0, kMaxRedundancy);
  config.fec_span = IntProp(o, "fecSpan", config.fec_span, 1, kMaxFecSpan);
  config.fec_entries = IntProp(o, "fecEntries", config.fec_entries, 1, kMaxFecEntries);
  config.max_datagram = static_cast<size_t>(
      IntProp(o, "maxDatagram", static_cast<int>(config.max_datagram),
              static_cast<int>(kMinMaxDatagramBytes), static_cast<int>(kMaxDatagramBytes)));
  try {
    udptl_ = std::make_unique<Udptl>(config);
  } catch (const UdptlConfigError& e) {
    ThrowRange(env, e.what());
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(env, "cannot allocate the UDPTL endpoint");
  }
  TagAndRegister<UdptlWrap>(info, registration_, [this] { Release(); });
}

UdptlWrap::~UdptlWrap() { Release(); }

void UdptlWrap::Release() {
  udptl_.reset();
  registration_.Unregister();
}

Udptl& UdptlWrap::Open(const Napi::CallbackInfo& info) {
  if (!udptl_) throw Napi::Error::New(info.Env(), "The UDPTL endpoint is closed");
  return *udptl_;
}

// encode(ifp): the next datagram, in a new Uint8Array.
Napi::Value UdptlWrap::JsEncode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Udptl& u = Open(info);
  const ByteView ifp = Uint8ViewArg(info, 0, "ifp");
  if (ifp.length > kMaxIfpBytes)
    ThrowRange(env, "ifp must hold at most " + std::to_string(kMaxIfpBytes) + " octets but holds " +
                        std::to_string(ifp.length));
  std::array<uint8_t, kMaxDatagramBytes> out;
  const size_t n = u.Encode(ifp.data, ifp.length, out.data(), out.size());
  if (n == 0) throw Napi::Error::New(env, "the IFP could not be encoded");
  return CopyBytes(env, out.data(), n);
}

// decode(datagram): [{seq, ifp}] in the order delivered; [] for a malformed datagram.
Napi::Value UdptlWrap::JsDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Udptl& u = Open(info);
  const ByteView datagram = Uint8ViewArg(info, 0, "datagram");
  Gathered g;
  u.Receive(datagram.data, datagram.length, Gather, &g);
  if (g.failed) throw Napi::Error::New(env, "cannot allocate the decoded IFPs");
  Napi::Array result = Napi::Array::New(env, g.seqs.size());
  size_t begin = 0;
  for (size_t i = 0; i < g.seqs.size(); ++i) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("seq", static_cast<double>(g.seqs[i]));
    entry.Set("ifp", CopyBytes(env, g.bytes.data() + begin, g.ends[i] - begin));
    begin = g.ends[i];
    result.Set(static_cast<uint32_t>(i), entry);
  }
  return result;
}

Napi::Value UdptlWrap::JsStats(const Napi::CallbackInfo& info) {
  return UdptlStatsToJs(info.Env(), Open(info).stats());
}

Napi::Value UdptlWrap::JsNextSequence(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Open(info).next_sequence());
}

Napi::Value UdptlWrap::JsSetNextSequence(const Napi::CallbackInfo& info) {
  Udptl& u = Open(info);
  u.set_next_sequence(static_cast<uint16_t>(IntArg(info, 0, "seq", 0, 65535)));
  return info.Env().Undefined();
}

Napi::Value UdptlWrap::JsSetMaxDatagram(const Napi::CallbackInfo& info) {
  Udptl& u = Open(info);
  const int n = IntArg(info, 0, "maxDatagram", static_cast<int>(kMinMaxDatagramBytes),
                       static_cast<int>(kMaxDatagramBytes));
  u.set_max_datagram(static_cast<size_t>(n));  // in bounds: cannot throw
  return info.Env().Undefined();
}

Napi::Value UdptlWrap::JsClose(const Napi::CallbackInfo& info) {
  Release();
  return info.Env().Undefined();
}

void InitUdptl(Napi::Env env, Napi::Object exports) {
  exports.Set("Udptl", UdptlWrap::DefineClass(env));
}

}  // namespace faxline::bindings
