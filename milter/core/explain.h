/*
 * explain.h - what --explain prints about a reply pair: what each code
 * means, who sends the pair in practice, and the lint's judgement for a
 * rule at every stage, in the very words the config loader uses (both call
 * codes_check()).
 *
 * No libmilter, no libconfuse; writes only to the stream it is given.
 */
#ifndef RCM_EXPLAIN_H
#define RCM_EXPLAIN_H

#include <stdio.h>

/*
 * Explain spec ("550 5.7.1", "5.7.1", "452") on out. Returns 0 when a
 * reject or tempfail rule could give the pair (no error at any stage; it
 * may have warnings), 1 when it cannot be parsed or always has an error.
 */
int explain_write(FILE *out, const char *spec);

#endif
