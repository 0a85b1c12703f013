// The addon's entry point: registers every binding and the environment cleanup hook.
#include "bindings/addon.h"

#include <spandsp/version.h>

#include <vector>

#include "bindings/bilevel.h"
#include "bindings/gateway.h"
#include "bindings/image.h"
#include "bindings/media.h"
#include "bindings/session_group.h"
#include "bindings/udptl.h"
#include "engine/terminal.h"
#include "engine/udptl.h"

namespace faxline::bindings {
namespace {

void CleanUp(AddonState* state) {
  OpenRegistry& registry = *state->registry;
  registry.torn_down = true;
  // Copy first: a closer may unregister itself while running.
  std::vector<std::function<void()>*> closers(registry.closers.begin(), registry.closers.end());
  for (auto* close : closers) (*close)();
}

Napi::Value CompletionCodes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array codes = Napi::Array::New(env);
  for (int code = T30_ERR_OK; code <= kLastCompletionCode; ++code) {
    Napi::Object entry = Napi::Object::New(env);
    entry.Set("code", code);
    entry.Set("text", CompletionCodeText(code));
    codes.Set(static_cast<uint32_t>(code), entry);
  }
  return codes;
}

// SpanDSP's own numbers for what the TypeScript layer needs by name, so no table of
// them is ever written by hand.
Napi::Object Constants(Napi::Env env) {
  Napi::Object c = Napi::Object::New(env);
  c.Set("T30_ERR_OK", static_cast<int>(T30_ERR_OK));
  c.Set("T30_ERR_T0_EXPIRED", static_cast<int>(T30_ERR_T0_EXPIRED));
  c.Set("T30_ERR_T1_EXPIRED", static_cast<int>(T30_ERR_T1_EXPIRED));
  c.Set("T30_ERR_FILEERROR", static_cast<int>(T30_ERR_FILEERROR));
  c.Set("T30_ERR_NOPAGE", static_cast<int>(T30_ERR_NOPAGE));
  c.Set("T30_ERR_BADTIFF", static_cast<int>(T30_ERR_BADTIFF));
  c.Set("T30_ERR_BADPAGE", static_cast<int>(T30_ERR_BADPAGE));
  c.Set("T30_ERR_BADTAG", static_cast<int>(T30_ERR_BADTAG));
  c.Set("T30_ERR_BADTIFFHDR", static_cast<int>(T30_ERR_BADTIFFHDR));
  c.Set("T30_ERR_CALLDROPPED", static_cast<int>(T30_ERR_CALLDROPPED));
  c.Set("T30_SUPPORT_V27TER", static_cast<int>(T30_SUPPORT_V27TER));
  c.Set("T30_SUPPORT_V29", static_cast<int>(T30_SUPPORT_V29));
  c.Set("T30_SUPPORT_V17", static_cast<int>(T30_SUPPORT_V17));
  c.Set("T30_SUPPORT_T4_1D_COMPRESSION", static_cast<int>(T30_SUPPORT_T4_1D_COMPRESSION));
  c.Set("T30_SUPPORT_T4_2D_COMPRESSION", static_cast<int>(T30_SUPPORT_T4_2D_COMPRESSION));
  c.Set("T30_SUPPORT_T6_COMPRESSION", static_cast<int>(T30_SUPPORT_T6_COMPRESSION));
  c.Set("T4_COMPRESSION_ITU_T4_1D", static_cast<int>(T4_COMPRESSION_ITU_T4_1D));
  c.Set("T4_COMPRESSION_ITU_T4_2D", static_cast<int>(T4_COMPRESSION_ITU_T4_2D));
  c.Set("T4_COMPRESSION_ITU_T6", static_cast<int>(T4_COMPRESSION_ITU_T6));
  c.Set("T4_Y_RESOLUTION_STANDARD", static_cast<int>(T4_Y_RESOLUTION_STANDARD));
  c.Set("T4_Y_RESOLUTION_FINE", static_cast<int>(T4_Y_RESOLUTION_FINE));
  c.Set("T4_Y_RESOLUTION_SUPERFINE", static_cast<int>(T4_Y_RESOLUTION_SUPERFINE));
  c.Set("MAX_IDENTITY_LENGTH", static_cast<int>(kMaxIdentityLength));
  c.Set("MAX_HEADER_INFO_LENGTH", static_cast<int>(kMaxHeaderInfoLength));
  c.Set("SAMPLE_RATE", kSampleRate);
  c.Set("SAMPLES_PER_FRAME", kSamplesPerFrame);
  c.Set("UDPTL_MAX_DATAGRAM", static_cast<int>(kMaxDatagramBytes));
  c.Set("UDPTL_MIN_MAX_DATAGRAM", static_cast<int>(kMinMaxDatagramBytes));
  c.Set("UDPTL_MAX_IFP", static_cast<int>(kMaxIfpBytes));
  c.Set("UDPTL_MAX_REDUNDANCY", kMaxRedundancy);
  c.Set("UDPTL_MAX_FEC_SPAN", kMaxFecSpan);
  c.Set("UDPTL_MAX_FEC_ENTRIES", kMaxFecEntries);
  return c;
}

}  // namespace

AddonState& GetAddonState(Napi::Env env) { return *env.GetInstanceData<AddonState>(); }

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* state = new AddonState();
  // Instance data is freed when the environment goes away; the hook runs before that.
  env.SetInstanceData<AddonState>(state);
  env.AddCleanupHook(CleanUp, state);
  InitSession(env, exports);
  InitSessionGroup(env, exports);
  InitImage(env, exports);
  InitBilevel(env, exports);
  InitMedia(env, exports);
  InitGateway(env, exports);
  InitUdptl(env, exports);
  exports.Set("completionCodes", Napi::Function::New(env, CompletionCodes, "completionCodes"));
  exports.Set("constants", Constants(env));
  exports.Set("spandspRelease", SPANDSP_RELEASE_DATETIME_STRING);
  return exports;
}

}  // namespace faxline::bindings

static Napi::Object InitFaxline(Napi::Env env, Napi::Object exports) {
  return faxline::bindings::Init(env, exports);
}

NODE_API_MODULE(faxline, InitFaxline)
