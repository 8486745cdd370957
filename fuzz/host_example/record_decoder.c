/* record_decoder — see record_decoder.h. Plain C over sealpool's C API. */

#include "record_decoder.h"

#include <errno.h>
#include <stdlib.h>

#include "sealpool/sealpool.h"

#define NAME_MAX_LEN 32
#define HEARTBEAT_HEADER 3 /* hb_type:u8 payload_len:u16 */
#define HEARTBEAT_PADDING 16
#define REPLIES_MAX 64

struct session {
  uint8_t version;
  uint8_t name_len;
  char name[NAME_MAX_LEN];
};

struct connection {
  struct session *session; /* pool "sessions" */
  uint8_t *data;           /* pool "records": DATA bodies, concatenated */
  size_t data_len, data_cap;
  uint8_t *replies[REPLIES_MAX]; /* pool "replies" */
  size_t nreplies;
};

static sp_pool *records_pool, *sessions_pool, *replies_pool;

static unsigned be16(const uint8_t *p) { return (unsigned)p[0] << 8 | p[1]; }

int decoder_init(void) {
  sp_pool_options o;
  sp_pool_options_init(&o);
  records_pool = sp_pool_create("records", &o);
  replies_pool = sp_pool_create("replies", &o);
  /* Only a session's name may be copied in or out. */
  o.usercopy_offset = offsetof(struct session, name);
  o.usercopy_size = NAME_MAX_LEN;
  sessions_pool = sp_pool_create("sessions", &o);
  return records_pool && replies_pool && sessions_pool ? 0 : -1;
}

struct connection *connection_open(void) {
  return calloc(1, sizeof(struct connection));
}

static int handle_hello(struct connection *c, const uint8_t *body, size_t len) {
  if (c->session != NULL || len < 2) return -1;
  const unsigned name_len = body[1];
  if (name_len > NAME_MAX_LEN || name_len > len - 2) return -1;
  struct session *s = sp_alloc(sessions_pool, sizeof *s);
  if (s == NULL) return -1;
  s->version = body[0];
  s->name_len = (uint8_t)name_len;
  sp_memset(s->name, 0, NAME_MAX_LEN);
  sp_memcpy(s->name, body + 2, name_len);
  c->session = s;
  return 0;
}

static int handle_data(struct connection *c, const uint8_t *body, size_t len) {
  if (c->session == NULL) return -1;
  if (len == 0) return 0;
  if (len > c->data_cap - c->data_len) {
    size_t cap = c->data_cap ? c->data_cap : 64;
    while (cap - c->data_len < len) cap *= 2;
    uint8_t *grown = sp_alloc(records_pool, cap);
    if (grown == NULL) return -1;
    sp_memcpy(grown, c->data, c->data_len);
    sp_free(c->data);
    c->data = grown;
    c->data_cap = cap;
  }
  sp_memcpy(c->data + c->data_len, body, len);
  c->data_len += len;
  return 0;
}

static int handle_heartbeat(struct connection *c, const uint8_t *body,
                            size_t len) {
  if (len < HEARTBEAT_HEADER || c->nreplies == REPLIES_MAX) return -1;
  if (body[0] != 1) return 0; /* only requests are answered */
  const size_t payload_len = be16(body + 1);
  /* THE MISTAKE: the payload length is checked against the record's
   * length, not against what follows the 3-byte header (nor does it leave
   * room for the 16 bytes of padding the format requires). The check
   * should read
   *   if (HEARTBEAT_HEADER + payload_len + HEARTBEAT_PADDING > len)
   * As written, a request whose payload_len is up to 3 more than the
   * payload it carries makes the echo below read past the end of the
   * record — the shape of Heartbleed. sealpool stops the sp_memcpy at the
   * object's edge: "memory exposure attempt detected from pool 'records'". */
  if (payload_len > len) return -1;
  uint8_t *reply = sp_alloc(replies_pool,
                            HEARTBEAT_HEADER + payload_len + HEARTBEAT_PADDING);
  if (reply == NULL) return -1;
  reply[0] = 2;
  reply[1] = (uint8_t)(payload_len >> 8);
  reply[2] = (uint8_t)payload_len;
  uint8_t *echo = reply + HEARTBEAT_HEADER;
  if (sp_memcpy(echo, body + HEARTBEAT_HEADER, payload_len) == NULL ||
      sp_memset(echo + payload_len, 0, HEARTBEAT_PADDING) == NULL) {
    sp_free(reply);
    return -1; /* refused (report mode) */
  }
  c->replies[c->nreplies++] = reply;
  return 0;
}

int connection_feed(struct connection *c, const uint8_t *in, size_t size) {
  size_t pos = 0;
  while (pos < size) {
    if (size - pos < 3) return -1;
    const uint8_t type = in[pos];
    const size_t len = be16(in + pos + 1);
    pos += 3;
    if (len > size - pos) return -1;
    /* Each body in an object of exactly its length. */
    uint8_t *body = sp_alloc(records_pool, len);
    if (body == NULL) return -1;
    if (sp_memcpy(body, in + pos, len) == NULL) {
      sp_free(body);
      return -1;
    }
    pos += len;
    int r = -1;
    switch (type) {
      case RECORD_HELLO:
        r = handle_hello(c, body, len);
        break;
      case RECORD_DATA:
        r = handle_data(c, body, len);
        break;
      case RECORD_HEARTBEAT:
        r = handle_heartbeat(c, body, len);
        break;
      default:
        break;
    }
    sp_free(body);
    if (r != 0) return -1;
  }
  return 0;
}

size_t connection_replies(const struct connection *c) { return c->nreplies; }

size_t connection_data_size(const struct connection *c) { return c->data_len; }

void connection_close(struct connection *c) {
  if (c == NULL) return;
  for (size_t i = 0; i < c->nreplies; ++i) sp_free(c->replies[i]);
  sp_free(c->data);
  sp_free(c->session);
  free(c);
}
