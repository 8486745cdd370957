// sealpool — the program's loaded images: read-only data and code.
//
// A sorted, immutable snapshot of the address ranges where writes are
// forbidden (read-only PT_LOAD segments and PT_GNU_RELRO) and where reads
// are forbidden (executable segments), built with dl_iterate_phdr(). The
// snapshot is swapped atomically; readers take no lock. Staleness is
// checked (through dl_iterate_phdr's load/unload counters) every 1024
// lookups per thread and on RefreshImages().

#ifndef SEALPOOL_BOUNDSCHECK_INTERNAL_IMAGES_H_
#define SEALPOOL_BOUNDSCHECK_INTERNAL_IMAGES_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {
namespace boundscheck_internal {

enum class ImageHit { kNone, kReadOnly, kCode };

// Which protected image range [a, a+len) touches: code first (it is also
// read-only), then — when `include_read_only` — read-only data. Sets
// *range_start to the start of the range touched. Lock-free after the
// first call.
ImageHit FindImageRange(uintptr_t a, size_t len, bool include_read_only,
                        uintptr_t* range_start);

// Rebuilds the snapshot now.
void RefreshImages();

// How many snapshots have been built: changes when FindImageRange() or
// RefreshImages() notices that a library was loaded or unloaded. One
// relaxed load: it never reads the loader's state, never locks, never
// allocates (safe in a signal handler).
unsigned long long ImageEpoch();

}  // namespace boundscheck_internal
}  // namespace sealpool

#endif  // SEALPOOL_BOUNDSCHECK_INTERNAL_IMAGES_H_
