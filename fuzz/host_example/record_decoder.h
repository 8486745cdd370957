/* record_decoder — a small record decoder of the kind sealpool protects,
 * and the template for fuzzing host code that keeps its data in sealpool
 * pools (see README.md, "Fuzzing your own code").
 *
 * Wire format: a stream of records, each
 *
 *   type:u8  length:u16 (big-endian)  body[length]
 *
 *   0x01 HELLO      body = version:u8 name_len:u8 name[name_len]
 *                   (name_len at most 32); opens the session.
 *   0x17 DATA       body = bytes, appended to the connection's data.
 *   0x18 HEARTBEAT  body = hb_type:u8 payload_len:u16 payload[payload_len]
 *                   padding[at least 16]; a request (hb_type 1) is answered
 *                   with a response (hb_type 2) echoing the payload.
 *
 * Every record body is copied into an object of exactly its length in the
 * pool "records"; the session lives in the pool "sessions" (only its name
 * may be copied: a usercopy window), heartbeat responses in the pool
 * "replies", the data in "records". All copies go through sp_memcpy and
 * sp_memset, so that a length mistake stops at the object's edge with a
 * report naming the pool and the object.
 *
 * The decoder has ONE deliberate length-check mistake, of the kind real
 * parsers have (see handle_heartbeat in record_decoder.c). The fuzzer in
 * record_decoder_fuzzer.cc finds it within seconds. */
#ifndef SEALPOOL_FUZZ_HOST_EXAMPLE_RECORD_DECODER_H_
#define SEALPOOL_FUZZ_HOST_EXAMPLE_RECORD_DECODER_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
  RECORD_HELLO = 0x01,
  RECORD_DATA = 0x17,
  RECORD_HEARTBEAT = 0x18,
};

struct connection;

/* Creates the decoder's pools. 0, or -1 (errno set). Call once. */
int decoder_init(void);

/* A connection with no session yet; NULL on allocation failure. */
struct connection *connection_open(void);

/* Decodes `size` bytes of records. 0, or -1 at the first malformed record
 * (the records before it stay decoded). */
int connection_feed(struct connection *c, const uint8_t *data, size_t size);

/* Heartbeat responses produced so far, and bytes of DATA received. */
size_t connection_replies(const struct connection *c);
size_t connection_data_size(const struct connection *c);

/* Frees everything the connection holds. */
void connection_close(struct connection *c);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SEALPOOL_FUZZ_HOST_EXAMPLE_RECORD_DECODER_H_ */
