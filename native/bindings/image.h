// JS functions for TIFF-F files: writeTiffF, readTiff and checkTiff.
//
// Plain functions, no wrapped objects and no per-environment state: each call opens, uses
// and closes its file before returning. They run on the calling thread, since a page takes
// about a millisecond. A TiffError becomes a JS Error with code "ERR_FAXLINE_TIFF".
#pragma once

#include <napi.h>

namespace faxline::bindings {

void InitImage(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
