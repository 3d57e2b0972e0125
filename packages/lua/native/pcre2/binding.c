/*
 * phasekit's binding of PCRE2 (8-bit code units) for ngx.re, built as a WebAssembly reactor
 * with no imports (build.sh). JavaScript owns all policy (options, caches, error texts); this
 * file only compiles, runs and frees, and writes byte offsets where JavaScript reads them.
 *
 * Offsets are PCRE2_SIZE (32-bit on wasm32); PCRE2_UNSET reads as -1 through an Int32Array.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdlib.h>
#include "config.h"
#include "pcre2_internal.h" /* pcre2.h, and the match data's frames vector size */
#include "phasekit_budget.h"

#define EXPORT(name) __attribute__((export_name(#name)))

/* lua-nginx-module runs the DFA matcher with a workspace of 100 ints. */
#define DFA_WORKSPACE 100
/* PCRE's built-in match limit, which OpenResty keeps for "d" (DFA) mode. */
#define DEFAULT_MATCH_LIMIT 10000000u

unsigned long long phasekit_search_spent;
unsigned long long phasekit_search_budget = ~0ull;
int phasekit_search_over;

/* A compiled pattern and its number of offset pairs. */
typedef struct {
  pcre2_code *code;
  uint32_t pairs; /* captures + 1 */
} pk_regex;

/*
 * One match data for every pattern, as lua-nginx-module keeps one: it holds the ovector and
 * PCRE2's backtracking frames (20 KiB at least, up to the heap limit), which a match data per
 * cached pattern would each keep. Recreated when a pattern needs more pairs, and after a search
 * that grew the frames past FRAMES_KEPT (so that their memory goes back to malloc).
 */
#define FRAMES_KEPT (256 * 1024)
static pcre2_match_data *data;
static uint32_t data_pairs;

static int data_for(uint32_t pairs) {
  if (data != NULL && data_pairs >= pairs) return 1;
  pcre2_match_data_free(data);
  data_pairs = pairs < 32 ? 32 : pairs;
  data = pcre2_match_data_create(data_pairs, NULL);
  if (data == NULL) data_pairs = 0;
  return data != NULL;
}

static void trim_frames(void) {
  if (data != NULL && data->heapframes_size > FRAMES_KEPT) {
    uint32_t pairs = data_pairs;
    pcre2_match_data_free(data);
    data = NULL;
    data_for(pairs);
  }
}

static pcre2_match_context *match_context;
static pcre2_compile_context *compile_context;
static int dfa_workspace[DFA_WORKSPACE];
static uint32_t match_limit = DEFAULT_MATCH_LIMIT;
/* The bound on one whole search: the match limit plus this many steps per subject byte. */
static uint32_t steps_per_byte;
static int compile_error;
static PCRE2_SIZE compile_offset;
static int batch_status;
static PCRE2_SIZE batch_next;

EXPORT(pk_init) int pk_init(void) {
  match_context = pcre2_match_context_create(NULL);
  compile_context = pcre2_compile_context_create(NULL);
  if (match_context == NULL || compile_context == NULL) return 0;
  /* PCRE 8 (what OpenResty links) accepts \K in lookarounds; PCRE2 10.38+ wants this option. */
  pcre2_set_compile_extra_options(compile_context, PCRE2_EXTRA_ALLOW_LOOKAROUND_BSK);
  return 1;
}

EXPORT(pk_malloc) void *pk_malloc(size_t size) { return malloc(size); }
EXPORT(pk_free) void pk_free(void *p) { free(p); }

/* Writes the version ("10.42 2022-12-11") into buf (at least 32 bytes); returns its length. */
EXPORT(pk_version) int pk_version(char *buf) { return pcre2_config(PCRE2_CONFIG_VERSION, buf) - 1; }

/*
 * match: steps per start position (0: PCRE's default); heap_kib: backtracking memory;
 * per_byte: a whole search (all start positions together) may take the match limit plus
 * per_byte steps for each byte from its start to the end of the subject (0: no bound).
 */
EXPORT(pk_set_limits) void pk_set_limits(uint32_t match, uint32_t heap_kib, uint32_t per_byte) {
  match_limit = match == 0 ? DEFAULT_MATCH_LIMIT : match;
  pcre2_set_heap_limit(match_context, heap_kib);
  steps_per_byte = per_byte;
}

/* In the unit of phasekit_budget.h: 1/PHASEKIT_STEP_COST steps. */
static unsigned long long budget_for(size_t length, size_t start) {
  if (steps_per_byte == 0) return ~0ull;
  unsigned long long bytes = start < length ? length - start : 0;
  return PHASEKIT_STEP_COST * (match_limit + (unsigned long long)steps_per_byte * bytes);
}

EXPORT(pk_compile) pk_regex *pk_compile(const uint8_t *pattern, size_t length, uint32_t options) {
  pcre2_code *code = pcre2_compile(pattern, length, options, &compile_error, &compile_offset, compile_context);
  if (code == NULL) return NULL;
  uint32_t captures = 0;
  pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &captures);
  pk_regex *re = malloc(sizeof *re);
  if (re == NULL || !data_for(captures + 1)) {
    free(re);
    pcre2_code_free(code);
    compile_error = PCRE2_ERROR_NOMEMORY;
    compile_offset = 0;
    return NULL;
  }
  re->code = code;
  re->pairs = captures + 1;
  return re;
}

EXPORT(pk_compile_error) int pk_compile_error(void) { return compile_error; }
EXPORT(pk_compile_offset) size_t pk_compile_offset(void) { return compile_offset; }

EXPORT(pk_error_message) int pk_error_message(int code, uint8_t *buf, size_t size) {
  return pcre2_get_error_message(code, buf, size);
}

EXPORT(pk_regex_free) void pk_regex_free(pk_regex *re) {
  if (re == NULL) return;
  pcre2_code_free(re->code);
  free(re);
}

/* The ovector of the last search (it moves when the match data is recreated). */
EXPORT(pk_ovector) PCRE2_SIZE *pk_ovector(void) { return pcre2_get_ovector_pointer(data); }

/* what: 0 capture count, 1 name count, 2 name entry size, 3 name table. */
EXPORT(pk_info) uint32_t pk_info(pk_regex *re, int what) {
  uint32_t n = 0;
  PCRE2_SPTR table = NULL;
  switch (what) {
    case 0: return re->pairs - 1;
    case 1: pcre2_pattern_info(re->code, PCRE2_INFO_NAMECOUNT, &n); return n;
    case 2: pcre2_pattern_info(re->code, PCRE2_INFO_NAMEENTRYSIZE, &n); return n;
    case 3: pcre2_pattern_info(re->code, PCRE2_INFO_NAMETABLE, &table); return (uint32_t)(uintptr_t)table;
    default: return 0;
  }
}

/*
 * One search from `start`: rc as pcre2_match returns it (> 0: pairs set in the ovector), except
 * that DFA mode reports 1 when the longest match is in the first pair.
 */
static int search(pk_regex *re, const uint8_t *subject, size_t length, size_t start, uint32_t options, int dfa) {
  trim_frames(); /* the previous search's frames, if it needed many */
  phasekit_search_spent = 0;
  phasekit_search_over = 0;
  phasekit_search_budget = budget_for(length, start);
  int rc;
  if (dfa) {
    pcre2_set_match_limit(match_context, DEFAULT_MATCH_LIMIT);
    rc = pcre2_dfa_match(re->code, subject, length, start, options, data, match_context, dfa_workspace,
                         DFA_WORKSPACE);
    if (rc >= 0) rc = 1;
  } else {
    pcre2_set_match_limit(match_context, match_limit);
    rc = pcre2_match(re->code, subject, length, start, options, data, match_context);
  }
  return rc;
}

EXPORT(pk_exec)
int pk_exec(pk_regex *re, const uint8_t *subject, size_t length, size_t start, uint32_t options, int dfa) {
  return search(re, subject, length, start, options, dfa);
}

/*
 * Successive matches from `start` with lua-resty-core's stepping (after an empty match, the
 * next search starts one byte further), at most `max` of them. Writes per match its rc and
 * all `pairs` offset pairs into out. Returns the number written; then pk_batch_status() is
 * 1 when no match is left, 0 when more may follow from pk_batch_next() (the batch is full, or
 * its searches together took more than the first one's budget, so that the caller gets to
 * check its own time limit), or a negative rc (an error after the matches written).
 */
EXPORT(pk_exec_all)
int pk_exec_all(pk_regex *re, const uint8_t *subject, size_t length, size_t start, uint32_t options, int dfa,
                int32_t *out, int max) {
  unsigned long long spent = 0, budget = budget_for(length, start);
  int count = 0;
  PCRE2_SIZE pos = start;
  batch_status = 0;
  while (count < max) {
    if (count > 0 && spent > budget) break;
    int rc = search(re, subject, length, pos, options, dfa);
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(data);
    spent += phasekit_search_spent;
    if (rc < 0) {
      batch_status = rc == PCRE2_ERROR_NOMATCH ? 1 : rc;
      break;
    }
    int32_t *slot = out + (size_t)count * (1 + 2 * re->pairs);
    slot[0] = rc;
    for (uint32_t i = 0; i < 2 * re->pairs; i++) slot[1 + i] = (int32_t)ov[i];
    count++;
    pos = ov[1];
    if (ov[1] == ov[0] && ++pos > length) {
      batch_status = 1;
      break;
    }
  }
  batch_next = pos;
  return count;
}

/* The cost of the last search and its budget, in the unit of phasekit_budget.h (for tests). */
EXPORT(pk_search_spent) double pk_search_spent(void) { return (double)phasekit_search_spent; }
EXPORT(pk_search_budget) double pk_search_budget(void) { return (double)phasekit_search_budget; }

EXPORT(pk_batch_status) int pk_batch_status(void) { return batch_status; }
EXPORT(pk_batch_next) size_t pk_batch_next(void) { return batch_next; }
