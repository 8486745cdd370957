/* The C program run_programs.sh compiles with gcc (plainly and under
 * sealpool-run) and then runs: heap-heavy, deterministic output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
  struct node* next;
  unsigned key;
  char name[24];
};

static unsigned next_random(unsigned* state) {
  *state = *state * 1103515245u + 12345u;
  return (*state >> 8) & 0xFFFFFF;
}

static int compare_strings(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static struct node* merge(struct node* a, struct node* b) {
  struct node head;
  struct node* tail = &head;
  while (a != NULL && b != NULL) {
    if (a->key <= b->key) {
      tail->next = a;
      a = a->next;
    } else {
      tail->next = b;
      b = b->next;
    }
    tail = tail->next;
  }
  tail->next = a != NULL ? a : b;
  return head.next;
}

static struct node* sort_list(struct node* list) {
  if (list == NULL || list->next == NULL) return list;
  struct node* slow = list;
  struct node* fast = list->next;
  while (fast != NULL && fast->next != NULL) {
    slow = slow->next;
    fast = fast->next->next;
  }
  struct node* second = slow->next;
  slow->next = NULL;
  return merge(sort_list(list), sort_list(second));
}

int main(void) {
  /* A sieve on the heap. */
  const int limit = 200000;
  unsigned char* composite = calloc((size_t)limit + 1, 1);
  if (composite == NULL) return 1;
  int primes = 0;
  long long prime_sum = 0;
  for (int i = 2; i <= limit; ++i) {
    if (composite[i]) continue;
    ++primes;
    prime_sum += i;
    for (long long j = (long long)i * i; j <= limit; j += i) composite[j] = 1;
  }
  free(composite);
  printf("primes below %d: %d, sum %lld\n", limit, primes, prime_sum);

  /* A linked list of heap nodes, merge-sorted. */
  unsigned state = 2024;
  struct node* list = NULL;
  for (int i = 0; i < 20000; ++i) {
    struct node* n = malloc(sizeof *n);
    if (n == NULL) return 1;
    n->key = next_random(&state);
    snprintf(n->name, sizeof n->name, "node-%d", i);
    n->next = list;
    list = n;
  }
  list = sort_list(list);
  unsigned long long checksum = 0;
  int position = 0;
  for (struct node* n = list; n != NULL; n = n->next) {
    checksum = checksum * 31 + n->key + (unsigned long long)strlen(n->name);
    if (position++ < 3) printf("sorted %d: %u %s\n", position, n->key, n->name);
  }
  printf("list checksum %llu\n", checksum);
  while (list != NULL) {
    struct node* next = list->next;
    free(list);
    list = next;
  }

  /* Strings: built with realloc, duplicated, sorted with qsort. */
  enum { kStrings = 5000 };
  char** strings = malloc(kStrings * sizeof *strings);
  if (strings == NULL) return 1;
  size_t total = 0;
  for (int i = 0; i < kStrings; ++i) {
    size_t len = 1 + next_random(&state) % 40;
    char* s = NULL;
    for (size_t k = 0; k < len; ++k) {
      char* grown = realloc(s, k + 2);
      if (grown == NULL) return 1;
      s = grown;
      s[k] = (char)('a' + next_random(&state) % 26);
      s[k + 1] = '\0';
    }
    strings[i] = strdup(s);
    free(s);
    if (strings[i] == NULL) return 1;
    total += strlen(strings[i]);
  }
  qsort(strings, kStrings, sizeof *strings, compare_strings);
  printf("strings: %d, %zu characters, first %s, last %s\n", kStrings, total,
         strings[0], strings[kStrings - 1]);
  char* joined = malloc(total + kStrings + 1);
  if (joined == NULL) return 1;
  joined[0] = '\0';
  char* end = joined;
  for (int i = 0; i < kStrings; ++i) {
    size_t len = strlen(strings[i]);
    memcpy(end, strings[i], len);
    end[len] = ',';
    end += len + 1;
    free(strings[i]);
  }
  *end = '\0';
  unsigned long hash = 5381;
  for (const char* p = joined; *p != '\0'; ++p) hash = hash * 33 + (unsigned char)*p;
  printf("joined %zu bytes, hash %lu\n", strlen(joined), hash);
  free(joined);
  free(strings);
  return 0;
}
