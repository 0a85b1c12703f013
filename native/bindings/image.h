// JS functions for TIFF-F files: writeTiffF, readTiff, checkTiff and checkTiffAsync.
//
// Plain functions, no wrapped objects: each call opens, uses and closes its file. All but
// checkTiffAsync run on the calling thread, since a page takes about a millisecond; that one
// checks a whole document on a libuv thread. A TiffError becomes a JS Error with code
// "ERR_FAXLINE_TIFF".
#pragma once

#include <napi.h>

namespace faxline::bindings {

void InitImage(Napi::Env env, Napi::Object exports);

}  // namespace faxline::bindings
