#include "bindings/args.h"

namespace faxline::bindings {
namespace {

bool IsInteger(double v) { return std::isfinite(v) && std::floor(v) == v; }

}  // namespace

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  return index < info.Length() ? info[index] : info.Env().Undefined();
}

std::string DescribeType(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsBoolean()) return "boolean";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_int8_array:
        return "an Int8Array";
      case napi_uint8_array:
        return "a Uint8Array";
      case napi_uint8_clamped_array:
        return "a Uint8ClampedArray";
      case napi_int16_array:
        return "an Int16Array";
      case napi_uint16_array:
        return "a Uint16Array";
      case napi_int32_array:
        return "an Int32Array";
      case napi_uint32_array:
        return "a Uint32Array";
      case napi_float32_array:
        return "a Float32Array";
      case napi_float64_array:
        return "a Float64Array";
      default:
        return "a typed array";
    }
  }
  if (v.IsArrayBuffer()) return "an ArrayBuffer";
  if (v.IsArray()) return "an array";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "a value of another kind";
}

void ThrowType(const Napi::Env& env, const std::string& expected, const std::string& what,
               const Napi::Value& got) {
  throw Napi::TypeError::New(
      env, "Expected " + expected + " for " + what + " but got " + DescribeType(got));
}

void ThrowRange(const Napi::Env& env, const std::string& message) {
  throw Napi::RangeError::New(env, message);
}

Napi::Object ObjectArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = Arg(info, index);
  if (!v.IsObject() || v.IsArray() || v.IsFunction()) ThrowType(info.Env(), "an object", what, v);
  return v.As<Napi::Object>();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = Arg(info, index);
  if (!v.IsString()) ThrowType(info.Env(), "a string", what, v);
  return v.As<Napi::String>().Utf8Value();
}

bool TryInt16View(napi_env env, napi_value value, Int16View& view) {
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  // Fails with napi_invalid_arg for anything but a typed array: no separate check needed.
  if (napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr) != napi_ok ||
      type != napi_int16_array)
    return false;
  view.data = static_cast<int16_t*>(data);
  view.length = length;
  return true;
}

Int16View Int16ViewArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = Arg(info, index);
  Int16View view;
  if (!TryInt16View(info.Env(), v, view)) ThrowType(info.Env(), "an Int16Array", what, v);
  return view;
}

ByteView Uint8ViewArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  Napi::Value v = Arg(info, index);
  napi_typedarray_type type;
  ByteView view;
  void* data = nullptr;
  if (napi_get_typedarray_info(info.Env(), v, &type, &view.length, &data, nullptr, nullptr) !=
          napi_ok ||
      type != napi_uint8_array) {
    ThrowType(info.Env(), "a Uint8Array", what, v);
  }
  view.data = static_cast<uint8_t*>(data);
  return view;
}

int IntArg(const Napi::CallbackInfo& info, size_t index, const char* what, int min, int max) {
  Napi::Value v = Arg(info, index);
  if (!v.IsNumber()) ThrowType(info.Env(), "a number", what, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!IsInteger(d) || d < min || d > max)
    ThrowRange(info.Env(), std::string(what) + " must be an integer from " + std::to_string(min) +
                               " to " + std::to_string(max));
  return static_cast<int>(d);
}

std::string StringProp(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsString()) ThrowType(o.Env(), "a string", std::string("options.") + key, v);
  return v.As<Napi::String>().Utf8Value();
}

bool BoolProp(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) ThrowType(o.Env(), "a boolean", std::string("options.") + key, v);
  return v.As<Napi::Boolean>().Value();
}

int IntProp(const Napi::Object& o, const char* key, int fallback, int min, int max) {
  const double d = NumberProp(o, key, fallback, min, max);
  if (!IsInteger(d)) ThrowRange(o.Env(), std::string("options.") + key + " must be an integer");
  return static_cast<int>(d);
}

double NumberProp(const Napi::Object& o, const char* key, double fallback, double min, double max) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) ThrowType(o.Env(), "a number", std::string("options.") + key, v);
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d < min || d > max)
    ThrowRange(o.Env(), std::string("options.") + key + " must be from " + std::to_string(min) +
                            " to " + std::to_string(max));
  return d;
}

}  // namespace faxline::bindings
