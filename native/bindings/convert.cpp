#include "bindings/convert.h"

#include <cmath>

#include "bindings/args.h"
#include "engine/terminal.h"

namespace faxline::bindings {
namespace {

// The first page number worth allowing: SpanDSP takes an int page index.
constexpr int kMaxPage = 1000000;

// An optional integer property of a T.38 settings object, named `where.key` in errors.
int T38Int(const Napi::Object& o, const char* key, const std::string& where, int fallback, int min,
           int max) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  const std::string name = where + "." + key;
  if (!v.IsNumber()) ThrowType(o.Env(), "a number", name, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d || d < min || d > max)
    ThrowRange(o.Env(), name + " must be an integer from " + std::to_string(min) + " to " +
                            std::to_string(max));
  return static_cast<int>(d);
}

bool T38Bool(const Napi::Object& o, const char* key, const std::string& where, bool fallback) {
  const Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowType(o.Env(), "a boolean", where + "." + key, v);
  return v.As<Napi::Boolean>().Value();
}

double SampleTimeMs(int64_t samples) { return static_cast<double>(samples) * 1000.0 / kSampleRate; }

}  // namespace

TerminalOptions TerminalOptionsFromJs(const Napi::Object& o) {
  Napi::Env env = o.Env();
  TerminalOptions t;
  const std::string direction = StringProp(o, "direction", "send");
  if (direction == "send") {
    t.direction = Direction::kSend;
  } else if (direction == "receive") {
    t.direction = Direction::kReceive;
  } else {
    ThrowRange(env, "options.direction must be 'send' or 'receive'");
  }
  t.calling_party = BoolProp(o, "callingParty", t.direction == Direction::kSend);
  t.identity = StringProp(o, "identity", "");
  t.header_info = StringProp(o, "headerInfo", "");
  t.ecm = BoolProp(o, "ecm", true);
  t.modems = IntProp(o, "modems", t.modems, 0, 0xFFFF);
  t.compressions = IntProp(o, "compressions", t.compressions, 0, 0xFFFF);
  t.tx_file = StringProp(o, "txFile", "");
  t.first_page = IntProp(o, "firstPage", 1, 1, kMaxPage);
  t.last_page = IntProp(o, "lastPage", 0, 0, kMaxPage);
  t.decode_pages = !BoolProp(o, "pagesChecked", false);
  t.rx_file = StringProp(o, "rxFile", "");
  try {
    ValidateOptions(t);
  } catch (const OptionError& e) {
    ThrowRange(env, e.what());
  }
  return t;
}

T38Config T38ConfigFromJs(const Napi::Value& value, const std::string& where) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray() || value.IsFunction())
    ThrowType(env, "an object", where, value);
  const Napi::Object o = value.As<Napi::Object>();
  T38Config c;
  c.version = T38Int(o, "version", where, c.version, kMinT38Version, kMaxT38Version);
  c.max_bit_rate = T38Int(o, "maxBitRate", where, c.max_bit_rate, 2400, 14400);
  c.rate_management =
      T38Int(o, "rateManagement", where, c.rate_management, kLocalTcf, kTransferredTcf);
  c.max_buffer = T38Int(o, "maxBuffer", where, c.max_buffer, kMinT38MaxBuffer, kMaxT38MaxBuffer);
  c.fill_bit_removal = T38Bool(o, "fillBitRemoval", where, c.fill_bit_removal);
  c.transcoding_mmr = T38Bool(o, "transcodingMMR", where, c.transcoding_mmr);
  c.transcoding_jbig = T38Bool(o, "transcodingJBIG", where, c.transcoding_jbig);
  switch (T38Int(o, "errorCorrection", where, 1, 0, 2)) {
    case 0:
      c.udptl.error_correction = UdptlErrorCorrection::kNone;
      break;
    case 2:
      c.udptl.error_correction = UdptlErrorCorrection::kFec;
      break;
    default:
      c.udptl.error_correction = UdptlErrorCorrection::kRedundancy;
      break;
  }
  c.udptl.redundancy = T38Int(o, "redundancy", where, c.udptl.redundancy, 0, kMaxRedundancy);
  c.udptl.fec_span = T38Int(o, "fecSpan", where, c.udptl.fec_span, 1, kMaxFecSpan);
  c.udptl.fec_entries = T38Int(o, "fecEntries", where, c.udptl.fec_entries, 1, kMaxFecEntries);
  c.udptl.max_datagram = static_cast<size_t>(
      T38Int(o, "maxDatagram", where, static_cast<int>(c.udptl.max_datagram),
             static_cast<int>(kMinMaxDatagramBytes), static_cast<int>(kMaxDatagramBytes)));
  try {
    ValidateT38Config(c);
  } catch (const OptionError& e) {
    ThrowRange(env, where + ": " + e.what());
  }
  return c;
}

Napi::Object UdptlStatsToJs(Napi::Env env, const UdptlStats& s) {
  Napi::Object o = Napi::Object::New(env);
  // Counts stay far below 2^53: a double holds them exactly.
  o.Set("sent", static_cast<double>(s.sent));
  o.Set("received", static_cast<double>(s.received));
  o.Set("delivered", static_cast<double>(s.delivered));
  o.Set("recoveredByRedundancy", static_cast<double>(s.recovered_by_redundancy));
  o.Set("recoveredByFec", static_cast<double>(s.recovered_by_fec));
  o.Set("lost", static_cast<double>(s.lost));
  o.Set("duplicates", static_cast<double>(s.duplicates));
  o.Set("late", static_cast<double>(s.late));
  o.Set("malformed", static_cast<double>(s.malformed));
  return o;
}

Napi::Object UdptlStatsToJs(Napi::Env env, const UdptlPort& port) {
  Napi::Object o = UdptlStatsToJs(env, port.udptl().stats());
  o.Set("outboxOverflows", static_cast<double>(port.outbox_overflows()));
  return o;
}

Napi::Object StatsToJs(Napi::Env env, const TransferStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("bitRate", s.bit_rate);
  o.Set("ecm", s.ecm);
  o.Set("pagesTransferred", s.pages_transferred);
  o.Set("pagesInFile", s.pages_in_file);
  o.Set("xResolution", s.x_resolution);
  o.Set("yResolution", s.y_resolution);
  o.Set("width", s.width);
  o.Set("length", s.length);
  o.Set("imageSize", s.image_size);
  o.Set("encoding", s.encoding);
  const char* name = s.encoding > 0 ? t4_encoding_to_str(s.encoding) : nullptr;
  o.Set("compression", name ? name : "");
  o.Set("badRows", s.bad_rows);
  o.Set("longestBadRowRun", s.longest_bad_row_run);
  o.Set("ecmRetries", s.ecm_retries);
  o.Set("remoteIdentity", s.remote_identity);
  o.Set("remoteCountry", s.remote_country);
  o.Set("remoteVendor", s.remote_vendor);
  o.Set("remoteModel", s.remote_model);
  return o;
}

Napi::Object ResultToJs(Napi::Env env, const FaxResult& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", r.code);
  o.Set("text", r.text);
  o.Set("success", r.success());
  o.Set("pages", r.pages);
  o.Set("detail", r.detail);
  o.Set("stats", StatsToJs(env, r.stats));
  return o;
}

Napi::Object EventToJs(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("timeMs", SampleTimeMs(e.sample_time));
  switch (e.type) {
    case EventType::kNegotiated:
      o.Set("type", "negotiated");
      o.Set("stats", StatsToJs(env, e.stats));
      break;
    case EventType::kPage:
      o.Set("type", "page");
      o.Set("page", e.page);
      o.Set("stats", StatsToJs(env, e.stats));
      break;
    case EventType::kFinished:
      o.Set("type", "finished");
      o.Set("code", e.code);
      o.Set("text", CompletionCodeText(e.code));
      o.Set("pages", e.page);
      o.Set("stats", StatsToJs(env, e.stats));
      break;
    case EventType::kFrame: {
      o.Set("type", "frame");
      o.Set("direction", e.frame_incoming ? "received" : "sent");
      const char* name = t30_frametype(e.frame_type);
      o.Set("name", name ? name : "");
      o.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, e.frame.data(), e.frame_length));
      break;
    }
  }
  return o;
}

Napi::Array EventsToJs(Napi::Env env, const std::vector<Event>& events) {
  Napi::Array a = Napi::Array::New(env, events.size());
  for (size_t i = 0; i < events.size(); ++i)
    a.Set(static_cast<uint32_t>(i), EventToJs(env, events[i]));
  return a;
}

}  // namespace faxline::bindings
