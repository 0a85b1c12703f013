#include "bindings/image.h"

#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "bindings/args.h"
#include "bindings/image_calls.h"
#include "bindings/promise_worker.h"
#include "image/tiff_io.h"

namespace faxline::bindings {
namespace {

using image::BilevelPage;
using image::TiffCompression;

// writeTiffF(path, pages, compression): a bad page leaves no file behind.
Napi::Value JsWriteTiffF(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  Napi::Value pages_value = info.Length() > 1 ? info[1] : env.Undefined();
  if (!pages_value.IsArray()) ThrowType(env, "an array", "pages", pages_value);
  const Napi::Array pages_array = pages_value.As<Napi::Array>();
  const uint32_t count = pages_array.Length();
  if (count == 0 || count > std::numeric_limits<uint16_t>::max()) {
    ThrowRange(env, "pages must hold from 1 to 65535 pages but has " + std::to_string(count));
  }
  const TiffCompression compression = CompressionFromJs(info, 2);

  // Every page is checked before the file is made; each is copied only as it is written, so
  // the document is never held twice.
  std::vector<JsPage> pages;
  pages.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    pages.push_back(PageFromJs(pages_array.Get(i), "pages[" + std::to_string(i) + "]"));
  }
  CallImage(env, [&] {
    BilevelPage page;
    image::WriteTiffF(
        path, pages.size(),
        [&](size_t i) -> const BilevelPage& {
          CopyPage(pages[i], page);
          return page;
        },
        compression);
  });
  return env.Undefined();
}

// readTiff(path) -> [{width, height, xDpi, yDpi, data: Buffer}]
Napi::Value JsReadTiff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string path = StringArg(info, 0, "path");
  std::vector<BilevelPage> pages = CallImage(env, [&] { return image::ReadTiff(path); });
  Napi::Array result = Napi::Array::New(env, pages.size());
  for (size_t i = 0; i < pages.size(); ++i) {
    BilevelPage& page = pages[i];
    Napi::Object js = Napi::Object::New(env);
    js.Set("width", Napi::Number::New(env, page.width));
    js.Set("height", Napi::Number::New(env, page.height));
    js.Set("xDpi", Napi::Number::New(env, page.x_dpi));
    js.Set("yDpi", Napi::Number::New(env, page.y_dpi));
    js.Set("data", Napi::Buffer<uint8_t>::Copy(env, page.bits.data(), page.bits.size()));
    std::vector<uint8_t>().swap(page.bits);  // free each page once JS has its copy
    result.Set(static_cast<uint32_t>(i), js);
  }
  return result;
}

Napi::Object TiffCheckToJs(Napi::Env env, const image::TiffCheck& check) {
  Napi::Object result = Napi::Object::New(env);
  result.Set("code", Napi::Number::New(env, check.code));
  result.Set("detail", Napi::String::New(env, check.detail));
  result.Set("pages", Napi::Number::New(env, check.pages));
  return result;
}

struct TiffCheckArgs {
  std::string path;
  int first_page;
  int last_page;
};

TiffCheckArgs TiffCheckArgsFromJs(const Napi::CallbackInfo& info) {
  return {StringArg(info, 0, "path"),
          IntArg(info, 1, "firstPage", 1, std::numeric_limits<int>::max()),
          IntArg(info, 2, "lastPage", 0, std::numeric_limits<int>::max())};
}

// checkTiff(path, firstPage, lastPage) -> {code, detail, pages}; lastPage 0 = to the end.
// A page range outside the file is an answer (T30_ERR_NOPAGE), not an exception.
Napi::Value JsCheckTiff(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const TiffCheckArgs args = TiffCheckArgsFromJs(info);
  return TiffCheckToJs(env, CallImage(env, [&] {
                         return image::CheckTiffForSending(args.path, args.first_page,
                                                           args.last_page);
                       }));
}

// The same check on a libuv thread, for a file of many pages: decoding them takes about a
// millisecond each, too long for a thread that drives real-time calls.
class CheckTiffWorker : public PromiseWorker {
 public:
  // Nothing to stop at teardown: a check ends by itself.
  CheckTiffWorker(Napi::Env env, TiffCheckArgs args)
      : PromiseWorker(env, "faxline:checkTiff", [] {}), args_(std::move(args)) {}

 protected:
  void Run() override {
    check_ = image::CheckTiffForSending(args_.path, args_.first_page, args_.last_page);
  }
  Napi::Value Result(Napi::Env env) override { return TiffCheckToJs(env, check_); }

 private:
  TiffCheckArgs args_;
  image::TiffCheck check_;
};

// checkTiffAsync(path, firstPage, lastPage) -> Promise<{code, detail, pages}>.
Napi::Value JsCheckTiffAsync(const Napi::CallbackInfo& info) {
  auto* worker = new CheckTiffWorker(info.Env(), TiffCheckArgsFromJs(info));
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

void InitImage(Napi::Env env, Napi::Object exports) {
  image::SilenceLibtiffGlobally();
  exports.Set("writeTiffF", Napi::Function::New(env, JsWriteTiffF, "writeTiffF"));
  exports.Set("readTiff", Napi::Function::New(env, JsReadTiff, "readTiff"));
  exports.Set("checkTiff", Napi::Function::New(env, JsCheckTiff, "checkTiff"));
  exports.Set("checkTiffAsync", Napi::Function::New(env, JsCheckTiffAsync, "checkTiffAsync"));
}

}  // namespace faxline::bindings
