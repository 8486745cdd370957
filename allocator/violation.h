// sealpool — violations: the record, the modes and the handler registry.
//
// Evidence of memory unsafety (double free, invalid free, metadata
// corruption, and — from boundscheck/ — out-of-bounds copies) is reported
// through one path: a Violation record is filled in, the user's handler (if
// any) is called, a report is written to stderr with write(2), and then the
// mode decides: abort (the default) or return an error to the caller.
//
// The report path never allocates and never takes a lock that an allocating
// path can hold, so it is safe from any state the allocator can be in.

#ifndef SEALPOOL_ALLOCATOR_VIOLATION_H_
#define SEALPOOL_ALLOCATOR_VIOLATION_H_

#include <cstddef>
#include <cstdint>

namespace sealpool {

// Kinds of violation. The numeric values are the C API's SP_VIOLATION_*
// codes and what sp_free() / sp_check_copy() return in report mode; they are
// stable.
enum class ViolationKind : int {
  kNone = 0,
  kDoubleFree = 1,         // free of a slot that is already free
  kInvalidFree = 2,        // free of a pointer that is not a live object start
  kSealedFree = 3,         // free of an object in sealed memory
  kMetadataCorruption = 4, // a canary or list link did not verify
  kOutOfBounds = 5,        // copy range leaves its object
  kUseAfterFree = 6,       // copy touches a freed slot or freed large object
  kGuardPage = 7,          // copy touches a guard page
  kMetadataPage = 8,       // copy touches allocator metadata
  kUnusedPage = 9,         // copy touches arena memory nobody owns
  kSealedWrite = 10,       // copy writes into sealed memory
  kUsercopyWindow = 11,    // copy leaves the pool's usercopy window
  kBogusPointer = 12,      // null / first page / wrapping range
  kStackOverflow = 13,     // range partly on the thread's stack or dead frame
  kImageSegment = 14,      // write to read-only image data, or read of code
  kHeapOverflow = 15,      // a canary next to an object was overwritten
  kWriteAfterFree = 16,    // a freed slot was written before its reuse
  kStackFrame = 17,        // copy reaches a frame's saved registers and
                           // return address, or crosses into another frame
  kObjectSize = 18,        // copy runs past the object size the compiler
                           // knew (__builtin_dynamic_object_size)
};
inline constexpr int kViolationKindCount = 19;

// Stable short name of a kind, e.g. "double-free".
const char* ViolationKindName(ViolationKind kind);

enum class CopyDirection : int {
  kNone = 0,   // not a copy (free, corruption)
  kRead = 1,   // data flows out of the object (copy_to_user)
  kWrite = 2,  // data flows into the object (copy_from_user)
};

enum class Mode : int {
  kAbort = 0,   // report, then abort()
  kReport = 1,  // report, count, and return an error to the caller
};

inline constexpr int kMaxStackFrames = 32;

// Everything known about one violation. Pointers into this record are valid
// only during the handler call.
struct Violation {
  ViolationKind kind = ViolationKind::kNone;
  const char* pool_name = nullptr;  // NULL when no pool is involved
  uint32_t pool_id = 0;             // 0 when no pool is involved
  uintptr_t addr = 0;               // start of the offending range
  size_t len = 0;                   // its length (0 for frees)
  CopyDirection dir = CopyDirection::kNone;
  uintptr_t object_start = 0;       // 0 when no object is known
  size_t object_size = 0;
  size_t offset = 0;                // addr - object_start when known
  const char* detail = nullptr;     // one stable line of explanation
  // kStackFrame: an instruction address in the function whose frame it is
  // (the headline names it); 0 otherwise.
  uintptr_t frame_pc = 0;
  // kStackFrame, kObjectSize: where the range is, for the headline
  // ("process stack", "program data", "memory"); nullptr otherwise.
  const char* region = nullptr;
  uint64_t thread_id = 0;
  int stack_depth = 0;
  void* stack[kMaxStackFrames] = {};
};

using ViolationHandler = void (*)(const Violation& v, void* arg);

// Sets the mode for all later violations. Thread-safe.
void SetMode(Mode mode);
Mode GetMode();

// Installs a handler called for every violation, in every mode, before the
// report is written; nullptr removes it. The handler must not free or
// allocate pool memory of the pool involved. Thread-safe.
void SetViolationHandler(ViolationHandler fn, void* arg);

// Number of violations reported since start (all kinds, all pools).
uint64_t ViolationCount();

// The report entry point for checkers (boundscheck/) and the allocator:
// fills in thread and stack, counts (globally and for v.pool_id), calls the
// handler, writes the report to stderr (and the JSON log, if configured),
// then aborts in abort mode or returns v.kind in report mode. Never
// allocates and takes no lock. `skip_frames` drops the reporter's own
// frames from the stack trace.
ViolationKind ReportViolation(Violation& v, int skip_frames = 1);

}  // namespace sealpool

#endif  // SEALPOOL_ALLOCATOR_VIOLATION_H_
