// What the image bindings (image.cpp, bilevel.cpp) share: running native image code so that
// its C++ exceptions become JS errors, the compression argument, and pages from JS checked by
// the page rule (image/page_rule.h), the one rule the image code checks again.
#pragma once

#include <napi.h>

#include <stdexcept>
#include <string>

#include "bindings/args.h"
#include "image/page_rule.h"
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

// A page's width or height, named `what` in errors.
inline uint32_t PageDimensionFromJs(Napi::Env env, const Napi::Value& value,
                                    const std::string& what) {
  if (!value.IsNumber()) ThrowType(env, "a number", what, value);
  const double pixels = value.As<Napi::Number>().DoubleValue();
  if (!image::IsPageDimension(pixels)) {
    ThrowRange(
        env, image::ExpectedMessage(image::PageDimensionRule(), what, image::FormatNumber(pixels)));
  }
  return static_cast<uint32_t>(pixels);
}

// A page's resolution in dots per inch, named `what` in errors.
inline double PageDpiFromJs(Napi::Env env, const Napi::Value& value, const std::string& what) {
  if (!value.IsNumber()) ThrowType(env, "a number", what, value);
  const double dpi = value.As<Napi::Number>().DoubleValue();
  if (!image::IsPageDpi(dpi)) {
    ThrowRange(env, image::ExpectedMessage(image::PageDpiRule(), what, image::FormatNumber(dpi)));
  }
  return dpi;
}

// A page as JS passed it ({width, height, xDpi, yDpi, data}), checked but not yet copied.
// The data's address is read only when the page is copied (CopyPage): until then a getter
// (JS code) may still run and detach or replace the buffer.
struct JsPage {
  uint32_t width = 0;
  uint32_t height = 0;
  double x_dpi = 0;
  double y_dpi = 0;
  Napi::TypedArray data;
};

// The data of a page: a Uint8Array (a Buffer is one) or a Uint8ClampedArray.
inline bool IsPageData(const Napi::Value& value) {
  if (!value.IsTypedArray()) return false;
  const napi_typedarray_type type = value.As<Napi::TypedArray>().TypedArrayType();
  return type == napi_uint8_array || type == napi_uint8_clamped_array;
}

// Checks a page from JS by the page rule, naming its properties `what`.width and so on.
inline JsPage PageFromJs(const Napi::Value& value, const std::string& what) {
  Napi::Env env = value.Env();
  if (!value.IsObject() || value.IsArray() || value.IsFunction() || value.IsTypedArray()) {
    ThrowType(env, "an object", what, value);
  }
  const Napi::Object page = value.As<Napi::Object>();
  JsPage js;
  js.width = PageDimensionFromJs(env, page.Get("width"), what + ".width");
  js.height = PageDimensionFromJs(env, page.Get("height"), what + ".height");
  js.x_dpi = PageDpiFromJs(env, page.Get("xDpi"), what + ".xDpi");
  js.y_dpi = PageDpiFromJs(env, page.Get("yDpi"), what + ".yDpi");
  const Napi::Value data = page.Get("data");
  if (!IsPageData(data)) ThrowType(env, "a Uint8Array", what + ".data", data);
  js.data = data.As<Napi::TypedArray>();
  const std::string problem =
      image::PageDataProblem(js.width, js.height, js.data.ElementLength(), what);
  if (!problem.empty()) ThrowRange(env, problem);
  return js;
}

// Copies a checked page into `page`, reusing its buffer. Bytes are taken as they are now:
// should a getter since have changed the data's length, the TIFF writer's own check of the
// page rule refuses the page.
inline void CopyPage(const JsPage& js, image::BilevelPage& page) {
  page.width = js.width;
  page.height = js.height;
  page.x_dpi = js.x_dpi;
  page.y_dpi = js.y_dpi;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (napi_get_typedarray_info(js.data.Env(), js.data, &type, &length, &data, nullptr, nullptr) !=
          napi_ok ||
      data == nullptr) {
    length = 0;
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  page.bits.assign(bytes, bytes + length);
}

}  // namespace faxline::bindings
