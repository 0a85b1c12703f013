// grayToBilevel and TiffFWriter: a rendered document page from 8-bit gray to 1 bit, and the
// TIFF-F file such pages are appended to one at a time.
//
// grayToBilevel is synchronous and takes a few milliseconds a page; the document renderer
// calls it on its own worker thread.
//
// TiffFWriter ownership: owns an image::TiffFWriter (an open libtiff handle) until close(),
// the environment's teardown or garbage collection, whichever comes first. Only a successful
// close() leaves the file behind: teardown and garbage collection destroy the writer
// unfinished, which deletes the partial file, so a failed document never looks like a fax.
// Every call but close() throws once the writer is closed; close() is idempotent.
#pragma once

#include <napi.h>

#include <memory>

#include "bindings/tagged_class.h"
#include "image/tiff_io.h"

namespace faxline::bindings {

class TiffFWriterWrap : public Napi::ObjectWrap<TiffFWriterWrap> {
 public:
  static Napi::Function DefineClass(Napi::Env env);
  explicit TiffFWriterWrap(const Napi::CallbackInfo& info);
  ~TiffFWriterWrap() override;

  // Marks objects made by this class, so a method called on a forged `this` throws.
  static const napi_type_tag kTypeTag;
  static constexpr const char* kClassName = "TiffFWriter";

 private:
  Napi::Value JsAddPage(const Napi::CallbackInfo& info);
  Napi::Value JsClose(const Napi::CallbackInfo& info);
  Napi::Value JsPagesWritten(const Napi::CallbackInfo& info);

  // Returns the writer, or throws when it is closed.
  image::TiffFWriter& Open(const Napi::CallbackInfo& info);
  // Destroys the writer without finishing it (deleting the partial file) and unregisters.
  void Discard();

  std::unique_ptr<image::TiffFWriter> writer_;
  image::BilevelPage scratch_;  // the page being added; its buffer is reused page to page
  uint16_t pages_written_ = 0;
  OpenRegistration registration_;
};

void InitBilevel(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
