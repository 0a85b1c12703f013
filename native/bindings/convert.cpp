#include "bindings/convert.h"

#include "bindings/args.h"
#include "engine/terminal.h"

namespace faxline::bindings {
namespace {

// The first page number worth allowing: SpanDSP takes an int page index.
constexpr int kMaxPage = 1000000;

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
