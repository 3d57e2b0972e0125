/*
 * phasekit's bound on one whole search, included by the two matchers (budget.patch).
 *
 * PCRE2's match limit counts the backtracking steps of one start position and restarts at
 * zero for the next one; and one step may scan the rest of the subject (a repeat such as
 * [a-z]* runs as a loop inside a step). So an unanchored search of an n-byte subject can cost
 * about n * limit * n, which is hours. These hooks keep a running cost for the whole search,
 * all start positions together, in 1/STEP_COST steps: every step costs STEP_COST and every
 * subject character a repeat loop looks at costs 1 (a step takes about as long as scanning
 * 32 characters). Past phasekit_search_budget the search ends as if the match limit was hit.
 * The DFA matcher costs one step per subject character it visits.
 *
 * The binding resets the counters before each search and sets the budget.
 */
#ifndef PHASEKIT_BUDGET_H
#define PHASEKIT_BUDGET_H

#define PHASEKIT_STEP_COST 32ull

extern unsigned long long phasekit_search_spent;
extern unsigned long long phasekit_search_budget;
extern int phasekit_search_over;

/* The rest is for the matchers (pcre2_internal.h's types). */
#ifdef PCRE2_INTERNAL_H_IDEMPOTENT_GUARD

/*
 * After one start position: add its steps, and give up when over budget. rc 0 is "no match
 * here" and rc <= -900 are the backtracking verbs (COMMIT, PRUNE, SKIP...); once a repeat
 * loop was cut short (see PHASEKIT_LMAX) even a match is discarded.
 */
#define PHASEKIT_AFTER_START(rc, steps)                                                       \
  do {                                                                                        \
    phasekit_search_spent += PHASEKIT_STEP_COST * (steps);                                    \
    if (phasekit_search_over ||                                                               \
        (phasekit_search_spent > phasekit_search_budget && ((rc) == 0 || (rc) <= -900)))      \
      (rc) = PCRE2_ERROR_MATCHLIMIT;                                                          \
  } while (0)

/*
 * Every iteration of a repeat loop reads its maximum (Lmax) once: count it there. Over
 * budget, the loop sees a maximum of 0 and stops, and the match limit drops to 0 so that the
 * next step returns PCRE2_ERROR_MATCHLIMIT.
 */
static uint32_t phasekit_no_more;

static inline uint32_t *PHASEKIT_LMAX(uint32_t *lmax, match_block *mb) {
  if (++phasekit_search_spent + PHASEKIT_STEP_COST * mb->match_call_count <= phasekit_search_budget &&
      !phasekit_search_over)
    return lmax;
  phasekit_search_over = 1;
  mb->match_limit = 0;
  phasekit_no_more = 0;
  return &phasekit_no_more;
}

#define PHASEKIT_DFA_CHARACTER()                                                              \
  do {                                                                                        \
    phasekit_search_spent += PHASEKIT_STEP_COST;                                              \
    if (phasekit_search_spent > phasekit_search_budget) return PCRE2_ERROR_MATCHLIMIT;       \
  } while (0)

#endif /* PCRE2_INTERNAL_H_IDEMPOTENT_GUARD */
#endif
