// What the addon's ObjectWrap classes (FaxSession, TiffFWriter, T38Gateway, ...) share: a type
// tag that marks the objects a class made, and prototype methods that throw a TypeError on a
// forged or foreign `this`.
//
// A class T that uses Dispatch and DefineTaggedClass declares, publicly:
//   static const napi_type_tag kTypeTag;      // defined as NewTypeTag() in T's .cpp
//   static constexpr const char* kClassName;  // its name in JS
// and calls TagObject on `this` in its constructor.
#pragma once

#include <napi.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <random>
#include <string>
#include <vector>

#include "bindings/addon.h"

namespace faxline::bindings {

// A fresh random tag, for the definition of a class's kTypeTag. Random per load, not fixed: a
// process may load two copies of the addon (two .node files), each with its own classes and
// object layouts, and each must refuse the other's objects rather than read them as its own.
// A static data member (not a function-local static in a template, which GCC makes one
// process-wide STB_GNU_UNIQUE symbol that both copies would share) is initialised once per
// copy, when the shared object is loaded.
inline napi_type_tag NewTypeTag() {
  try {
    std::random_device device;
    auto draw = [&device] { return (uint64_t{device()} << 32) | device(); };
    return {draw(), draw()};
  } catch (...) {
    // No entropy source: the clock differs between loads, the count between classes.
    static std::atomic<uint64_t> count{0};
    const auto now =
        static_cast<uint64_t>(std::chrono::high_resolution_clock::now().time_since_epoch().count());
    return {now, 0x6661786c696e6531ULL ^ ++count};
  }
}

// Marks `object` as made by the class whose tag this is. False if N-API refuses.
inline bool TagObject(Napi::Env env, Napi::Value object, const napi_type_tag& tag) {
  return napi_type_tag_object(env, object, &tag) == napi_ok;
}

// Whether `value` is an object that TagObject marked with `tag`.
inline bool HasTag(Napi::Env env, Napi::Value value, const napi_type_tag& tag) {
  if (!value.IsObject()) return false;
  bool tagged = false;
  return napi_check_object_type_tag(env, value, &tag, &tagged) == napi_ok && tagged;
}

namespace detail {
template <typename Method>
struct MethodClass;
template <typename T>
struct MethodClass<Napi::Value (T::*)(const Napi::CallbackInfo&)> {
  using type = T;
};
}  // namespace detail

// A prototype method of T that calls `method` on `this`. Prototype methods go through here
// rather than ObjectWrap's own dispatch, which returns undefined for a forged `this`: here a
// forged or foreign `this` throws a TypeError.
template <auto method>
Napi::Value Dispatch(const Napi::CallbackInfo& info) {
  using T = typename detail::MethodClass<decltype(method)>::type;
  Napi::Env env = info.Env();
  T* self = nullptr;
  if (HasTag(env, info.This(), T::kTypeTag)) self = T::Unwrap(info.This().As<Napi::Object>());
  if (self == nullptr) {
    throw Napi::TypeError::New(env,
                               std::string("Illegal invocation: `this` is not a ") + T::kClassName);
  }
  return (self->*method)(info);
}

// One prototype method: its name and its callback, normally a Dispatch<&T::JsSomething>.
struct PrototypeMethod {
  const char* name;
  Napi::Function::Callback callback;
};

// The constructor of class T, named T::kClassName, with `methods` on its prototype.
template <typename T>
Napi::Function DefineTaggedClass(Napi::Env env, std::initializer_list<PrototypeMethod> methods) {
  Napi::Function ctor = Napi::ObjectWrap<T>::DefineClass(env, T::kClassName, {});
  Napi::Object proto = ctor.Get("prototype").As<Napi::Object>();
  std::vector<Napi::PropertyDescriptor> descriptors;
  descriptors.reserve(methods.size());
  for (const PrototypeMethod& m : methods) {
    descriptors.push_back(
        Napi::PropertyDescriptor::Function(env, proto, m.name, m.callback, napi_default_method));
  }
  proto.DefineProperties(descriptors);
  return ctor;
}

// The first check of T's constructor: a TypeError unless it was called with `new`.
template <typename T>
void RequireConstructCall(const Napi::CallbackInfo& info) {
  if (!info.IsConstructCall())
    throw Napi::TypeError::New(info.Env(), std::string(T::kClassName) + " must be called with new");
}

// The last step of T's constructor, once it holds what it wraps: tags `this` and registers
// `release` to run at the environment's teardown. If the tag fails, runs `release` (nothing
// must stay open behind an object JS never gets) and throws.
template <typename T>
void TagAndRegister(const Napi::CallbackInfo& info, OpenRegistration& registration,
                    const std::function<void()>& release) {
  Napi::Env env = info.Env();
  if (!TagObject(env, info.This(), T::kTypeTag)) {
    release();
    throw Napi::Error::New(env, std::string("cannot tag the ") + T::kClassName + " object");
  }
  registration.Register(env, release);
}

}  // namespace faxline::bindings
