#!/bin/bash
# cmake --install puts the library, the public headers, the driver, a pkg-config file and a CMake package config
# under a prefix; a tiny out-of-tree program then builds against the installed copy both ways and runs.
set -euo pipefail
build=$1 consumer=$2
prefix=$PWD/prefix
rm -rf "$prefix" consumer-build
cmake --install "$build" --prefix "$prefix" > install.log
for f in bin/kdpinn include/kdpinn.h include/kdversion.h; do [ -e "$prefix/$f" ] || { echo "missing $f"; exit 1; }; done
libdir=$(dirname "$(find "$prefix" -name 'libkdpinn.so*' | head -1)")
[ -n "$libdir" ] && [ -e "$libdir/pkgconfig/kdpinn.pc" ] || { echo "missing kdpinn.pc"; exit 1; }
# CMake package
cmake -S "$consumer" -B consumer-build -DCMAKE_PREFIX_PATH="$prefix" > configure.log
cmake --build consumer-build > build.log
LD_LIBRARY_PATH="$libdir" ./consumer-build/consumer | grep -q "2 levels"
# pkg-config
PKG_CONFIG_PATH="$libdir/pkgconfig" cc -o consumer-pc "$consumer/consumer.c" $(PKG_CONFIG_PATH="$libdir/pkgconfig" pkg-config --cflags --libs kdpinn)
LD_LIBRARY_PATH="$libdir" ./consumer-pc | grep -q "2 levels"
LD_LIBRARY_PATH="$libdir" "$prefix/bin/kdpinn" -version
echo "t002: installed kdpinn builds and runs a consumer through CMake and pkg-config"
