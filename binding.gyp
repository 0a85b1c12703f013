{
  # The shipping build: prebuildify and the install fallback use this file.
  # Sources come from native/sources.json, the one list CMakeLists.txt reads too.
  "targets": [
    {
      "target_name": "faxline",
      "sources": [
        "<!@(node -p \"const s=require('./native/sources.json'); [...s.engine, ...s.image, ...s.bindings].join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native",
        "<!@(pkg-config --cflags-only-I spandsp libtiff-4 | sed 's/-I//g')"
      ],
      "libraries": [
        "<!@(pkg-config --libs spandsp libtiff-4)",
        "-Wl,-rpath,'$$ORIGIN'"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
