// sealpool — libsealpool_malloc.so without the C++ standard streams.
//
// The library links the C++ runtime statically (allocator/malloc/
// CMakeLists.txt), and with GCC 12 every translation unit that includes
// <iostream> (absl/status/status.h does, and so do parts of Abseil's
// archives) holds a static std::ios_base::Init, whose constructor builds
// std::cout, std::cin and the rest and the classic locale with every
// facet. Nothing in the library uses a stream, so those constructors are
// replaced here by empty ones: the linker then takes neither libstdc++'s
// stream objects nor its locale machinery (about 350 KiB of code that the
// program's start-up would otherwise touch and keep resident). The
// program's own streams come from its own C++ runtime and are untouched.
// The install stage checks that the library defines no standard stream
// object.

#include <ios>

namespace std {
ios_base::Init::Init() {}
ios_base::Init::~Init() {}
}  // namespace std
