// What the image bindings (image.cpp, bilevel.cpp) share: running native image code so that
// its C++ exceptions become JS errors, and the compression argument.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

#include "bindings/args.h"
#include "image/tiff_io.h"

namespace faxline::bindings {

// Runs native image code, turning its C++ exceptions into JS errors: only Napi::Error may
// leave a callback, anything else would terminate the process. A TiffError becomes an Error
// with code "ERR_FAXLINE_TIFF", a rejected argument a RangeError.
template <typename Work>
auto CallImage(Napi::Env env, Work&& work) -> decltype(work()) {
  try {
    return work();
  } catch (const image::TiffError& e) {
    Napi::Error error = Napi::Error::New(env, e.what());
    error.Set("code", Napi::String::New(env, "ERR_FAXLINE_TIFF"));
    throw error;
  } catch (const std::invalid_argument& e) {
    ThrowRange(env, e.what());
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// The TIFF coding named by argument `index`: 't4-1d', 't4-2d' or 't6'.
inline image::TiffCompression CompressionFromJs(const Napi::CallbackInfo& info, size_t index) {
  const std::string name = StringArg(info, index, "compression");
  if (name == "t4-1d") return image::TiffCompression::kT4_1D;
  if (name == "t4-2d") return image::TiffCompression::kT4_2D;
  if (name == "t6") return image::TiffCompression::kT6;
  ThrowRange(info.Env(),
             "Expected 't4-1d', 't4-2d' or 't6' for compression but got '" + name + "'");
}

}  // namespace faxline::bindings
