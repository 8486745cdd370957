// record_decoder_fuzzer — fuzzing host code that keeps its data in
// sealpool pools: the template to copy (README.md, "Fuzzing your own
// code").
//
// Three things make this different from fuzzing the same decoder over
// malloc:
//   1. sealpool stays in its default abort mode: the first refused copy
//      writes its report to stderr ("sealpool: memory exposure attempt
//      detected from pool 'records' (object ..., offset 3, size 7, object
//      size 5)!" and the stack) and aborts, which libFuzzer records as a
//      crash with the input that caused it.
//   2. The pools are created once, before fuzzing (LLVMFuzzerInitialize),
//      as the program would at start-up; each input opens, feeds and
//      closes one connection, so that inputs stay independent.
//   3. Build the host code with -fsanitize=fuzzer-no-link (coverage) and
//      -fsanitize=address,undefined; sealpool's checked copies catch the
//      over-reads and over-writes that reach them even where ASan cannot
//      see them (inside one pool extent), and name the data structure.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "fuzz/host_example/record_decoder.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (decoder_init() != 0) {
    std::perror("decoder_init");
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The input is the byte stream a peer would send. It is fed in one or
  // two pieces, as it may arrive from the network: the last byte says
  // where to cut (FuzzedDataProvider takes integers from the end), the
  // rest is the stream.
  FuzzedDataProvider fdp(data, size);
  const size_t cut = fdp.ConsumeIntegral<uint8_t>();
  const std::vector<uint8_t> stream = fdp.ConsumeRemainingBytes<uint8_t>();
  struct connection* c = connection_open();
  if (c == nullptr) return 0;
  if (cut == 0 || cut >= stream.size()) {
    connection_feed(c, stream.data(), stream.size());
  } else if (connection_feed(c, stream.data(), cut) == 0) {
    connection_feed(c, stream.data() + cut, stream.size() - cut);
  }
  connection_close(c);
  return 0;
}
