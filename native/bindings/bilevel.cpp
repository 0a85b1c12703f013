#include "bindings/bilevel.h"

#include <cstring>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

#include "bindings/args.h"
#include "bindings/image_calls.h"
#include "image/bilevel.h"

namespace faxline::bindings {
namespace {

// The bytes of a Uint8Array (a Buffer is one) or Uint8ClampedArray (canvas pixels).
ByteView BytesOf(Napi::Env env, const Napi::Value& value, const std::string& what) {
  napi_typedarray_type type;
  ByteView view;
  void* data = nullptr;
  if (!value.IsTypedArray() ||
      napi_get_typedarray_info(env, value, &type, &view.length, &data, nullptr, nullptr) !=
          napi_ok ||
      (type != napi_uint8_array && type != napi_uint8_clamped_array)) {
    ThrowType(env, "a Uint8Array", what, value);
  }
  view.data = static_cast<uint8_t*>(data);
  return view;
}

image::ConversionMode ModeFromJs(const Napi::Object& options) {
  const std::string mode = StringProp(options, "mode", "auto");
  if (mode == "auto") return image::ConversionMode::kAuto;
  if (mode == "text") return image::ConversionMode::kText;
  if (mode == "photo") return image::ConversionMode::kPhoto;
  ThrowRange(options.Env(),
             "Expected 'auto', 'text' or 'photo' for options.mode but got '" + mode + "'");
}

// grayToBilevel(gray, width, height, options?) -> {width, height, xDpi, yDpi, data}
Napi::Value JsGrayToBilevel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Napi::Value gray_value = info.Length() > 0 ? info[0] : env.Undefined();
  BytesOf(env, gray_value, "gray");  // checked first, so a wrong type is the error reported
  const uint32_t width = PageDimensionFromJs(env, Arg(info, 1), "width");
  const uint32_t height = PageDimensionFromJs(env, Arg(info, 2), "height");
  image::ConversionOptions options;
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    const Napi::Object o = ObjectArg(info, 3, "options");
    options.mode = ModeFromJs(o);
    const Napi::Value x_dpi = o.Get("xDpi");
    if (!x_dpi.IsUndefined()) options.x_dpi = PageDpiFromJs(env, x_dpi, "options.xDpi");
    const Napi::Value y_dpi = o.Get("yDpi");
    if (!y_dpi.IsUndefined()) options.y_dpi = PageDpiFromJs(env, y_dpi, "options.yDpi");
  }
  // Only now, after the option getters (JS code) have run, is the buffer's address final.
  const ByteView gray = BytesOf(env, gray_value, "gray");
  const size_t needed = static_cast<size_t>(width) * height;
  if (gray.length < needed) {
    ThrowRange(env, "gray holds " + std::to_string(gray.length) + " bytes; a " +
                        std::to_string(width) + " x " + std::to_string(height) + " page needs " +
                        std::to_string(needed));
  }

  const image::BilevelPage page = CallImage(
      env, [&] { return image::ConvertToBilevel(gray.data, width, height, width, options); });
  Napi::Uint8Array data = Napi::Uint8Array::New(env, page.bits.size());
  std::memcpy(data.Data(), page.bits.data(), page.bits.size());
  Napi::Object result = Napi::Object::New(env);
  result.Set("width", Napi::Number::New(env, page.width));
  result.Set("height", Napi::Number::New(env, page.height));
  result.Set("xDpi", Napi::Number::New(env, page.x_dpi));
  result.Set("yDpi", Napi::Number::New(env, page.y_dpi));
  result.Set("data", data);
  return result;
}

}  // namespace

const napi_type_tag TiffFWriterWrap::kTypeTag = NewTypeTag();

Napi::Function TiffFWriterWrap::DefineClass(Napi::Env env) {
  return DefineTaggedClass<TiffFWriterWrap>(
      env, {{"addPage", Dispatch<&TiffFWriterWrap::JsAddPage>},
            {"close", Dispatch<&TiffFWriterWrap::JsClose>},
            {"pagesWritten", Dispatch<&TiffFWriterWrap::JsPagesWritten>}});
}

// new TiffFWriter(path, compression, totalPages?): totalPages (0 or absent: unknown) goes
// into each page's PageNumber tag, and close() then insists on exactly that many pages.
TiffFWriterWrap::TiffFWriterWrap(const Napi::CallbackInfo& info)
    : ObjectWrap<TiffFWriterWrap>(info) {
  Napi::Env env = info.Env();
  RequireConstructCall<TiffFWriterWrap>(info);
  const std::string path = StringArg(info, 0, "path");
  const image::TiffCompression compression = CompressionFromJs(info, 1);
  uint16_t total_pages = 0;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    total_pages = static_cast<uint16_t>(
        IntArg(info, 2, "totalPages", 0, std::numeric_limits<uint16_t>::max()));
  }
  writer_ = CallImage(
      env, [&] { return std::make_unique<image::TiffFWriter>(path, compression, total_pages); });
  TagAndRegister<TiffFWriterWrap>(info, registration_, [this] { writer_.reset(); });
}

TiffFWriterWrap::~TiffFWriterWrap() { Discard(); }

void TiffFWriterWrap::Discard() {
  writer_.reset();
  std::vector<uint8_t>().swap(scratch_.bits);
  registration_.Unregister();
}

image::TiffFWriter& TiffFWriterWrap::Open(const Napi::CallbackInfo& info) {
  if (!writer_) throw Napi::Error::New(info.Env(), "The TIFF-F writer is closed");
  return *writer_;
}

// addPage({width, height, xDpi, yDpi, data}): data holds height rows of ceil(width / 8)
// bytes, MSB first, 1 = black (what grayToBilevel returns).
Napi::Value TiffFWriterWrap::JsAddPage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  image::TiffFWriter& writer = Open(info);
  CopyPage(PageFromJs(Arg(info, 0), "page"), scratch_);
  CallImage(env, [&] { writer.AddPage(scratch_); });
  pages_written_ = writer.pages_written();
  return env.Undefined();
}

// close() -> the number of pages in the file. Idempotent. If finishing the file fails, the
// partial file is deleted and the error thrown; the writer is closed either way.
Napi::Value TiffFWriterWrap::JsClose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (writer_) {
    try {
      CallImage(env, [&] { writer_->Close(); });
    } catch (...) {
      Discard();
      throw;
    }
    pages_written_ = writer_->pages_written();
    Discard();  // the file is finished: destroying the writer leaves it in place
  }
  return Napi::Number::New(env, pages_written_);
}

Napi::Value TiffFWriterWrap::JsPagesWritten(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), Open(info).pages_written());
}

void InitBilevel(Napi::Env env, Napi::Object exports) {
  exports.Set("grayToBilevel", Napi::Function::New(env, JsGrayToBilevel, "grayToBilevel"));
  exports.Set("TiffFWriter", TiffFWriterWrap::DefineClass(env));
}

}  // namespace faxline::bindings
