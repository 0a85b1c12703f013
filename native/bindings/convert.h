// Conversions between the engine's plain structs and JS values, in one place for every binding.
#pragma once

#include <napi.h>

#include "engine/t30_session.h"
#include "engine/t38_terminal.h"
#include "engine/udptl_port.h"

namespace faxline::bindings {

// Reads {direction, callingParty, identity, headerInfo, ecm, modems, compressions, txFile,
// firstPage, lastPage, rxFile}; throws TypeError/RangeError.
TerminalOptions TerminalOptionsFromJs(const Napi::Object& o);

// Reads {version, maxBitRate, rateManagement, maxBuffer, fillBitRemoval, transcodingMMR,
// transcodingJBIG, errorCorrection (0 none, 1 redundancy, 2 FEC), redundancy, fecSpan,
// fecEntries, maxDatagram}, each optional; `where` names the object in errors ("options.t38").
// Throws TypeError/RangeError.
T38Config T38ConfigFromJs(const Napi::Value& value, const std::string& where);
// {sent, received, delivered, recoveredByRedundancy, recoveredByFec, lost, duplicates, late,
// malformed}
Napi::Object UdptlStatsToJs(Napi::Env env, const UdptlStats& stats);
// A port's: the endpoint's statistics and outboxOverflows.
Napi::Object UdptlStatsToJs(Napi::Env env, const UdptlPort& port);

Napi::Object StatsToJs(Napi::Env env, const TransferStats& stats);
Napi::Object ResultToJs(Napi::Env env, const FaxResult& result);
Napi::Object EventToJs(Napi::Env env, const Event& event);
Napi::Array EventsToJs(Napi::Env env, const std::vector<Event>& events);

}  // namespace faxline::bindings
