// Argument checks shared by every binding: each value is checked (Is*) before it is
// converted (As*), and a mismatch throws a TypeError or RangeError naming the argument.
#pragma once

#include <napi.h>

#include <cmath>
#include <string>

namespace faxline::bindings {

// "number", "string", "an object", ... for error messages.
std::string DescribeType(const Napi::Value& value);

[[noreturn]] void ThrowType(const Napi::Env& env, const std::string& expected,
                            const std::string& what, const Napi::Value& got);
[[noreturn]] void ThrowRange(const Napi::Env& env, const std::string& message);

// Argument `index`, or undefined when the call has fewer.
Napi::Value Arg(const Napi::CallbackInfo& info, size_t index);
Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t index, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what);
// The samples of an Int16Array argument, for the per-frame path: one N-API query instead of
// the several node-addon-api's typed array wrappers make.
struct Int16View {
  int16_t* data = nullptr;
  size_t length = 0;
};
// Returns false (and touches nothing) when the value is not an Int16Array.
bool TryInt16View(napi_env env, napi_value value, Int16View& view);
Int16View Int16ViewArg(const Napi::CallbackInfo& info, size_t index, const char* what);
// The bytes of a Uint8Array argument (a Buffer is one), writable.
struct ByteView {
  uint8_t* data = nullptr;
  size_t length = 0;
};
ByteView Uint8ViewArg(const Napi::CallbackInfo& info, size_t index, const char* what);
int IntArg(const Napi::CallbackInfo& info, size_t index, const char* what, int min, int max);

// Optional properties of an options object: absent or undefined gives the fallback.
std::string StringProp(const Napi::Object& o, const char* key, const std::string& fallback);
bool BoolProp(const Napi::Object& o, const char* key, bool fallback);
int IntProp(const Napi::Object& o, const char* key, int fallback, int min, int max);
double NumberProp(const Napi::Object& o, const char* key, double fallback, double min, double max);

}  // namespace faxline::bindings
