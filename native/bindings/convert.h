// Conversions between the engine's plain structs and JS values, in one place for every binding.
#pragma once

#include <napi.h>

#include "engine/t30_session.h"

namespace faxline::bindings {

// Reads {direction, callingParty, identity, headerInfo, ecm, modems, compressions, txFile,
// firstPage, lastPage, rxFile}; throws TypeError/RangeError.
TerminalOptions TerminalOptionsFromJs(const Napi::Object& o);

Napi::Object StatsToJs(Napi::Env env, const TransferStats& stats);
Napi::Object ResultToJs(Napi::Env env, const FaxResult& result);
Napi::Object EventToJs(Napi::Env env, const Event& event);
Napi::Array EventsToJs(Napi::Env env, const std::vector<Event>& events);

}  // namespace faxline::bindings
