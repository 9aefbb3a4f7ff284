/*
 * codes.c - the registry of SMTP reply codes (RFC 5321, RFC 7504, RFC 4954
 * and every basic code the IANA registry names) and of enhanced status codes
 * (the IANA registry, X.0.0 to X.7.30), the parser of reply specs and the
 * pairing checks.
 *
 * Pure data and pure functions: it must never include libmilter or
 * libconfuse, log, exit or allocate. The tables are constant and sorted;
 * tests/unit/check_codes.c compares them row by row with the IANA CSV in
 * tests/data/iana-enhanced-status-codes.csv.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/codes.h"

#define C_CONN CMDBIT(CMD_CONNECT)
#define C_HELO CMDBIT(CMD_HELO)
#define C_MAIL CMDBIT(CMD_MAIL)
#define C_RCPT CMDBIT(CMD_RCPT)
#define C_DATA CMDBIT(CMD_DATA)
#define C_DEND CMDBIT(CMD_DATA_END)
#define S_CONN STAGEBIT(STAGE_CONNECT)
#define S_HELO STAGEBIT(STAGE_HELO)
#define S_MAIL STAGEBIT(STAGE_MAIL)
#define S_RCPT STAGEBIT(STAGE_RCPT)
#define S_DATA STAGEBIT(STAGE_DATA)
#define S_MSG  STAGEBIT_MESSAGE
#define S_ANY  STAGEBIT_ANY
#define J(n)   (1u << (n))
#define J_ANY  0xffu
/* 421: a system (X.3), network (X.4) or policy (X.7) reason to close */
#define J_CONN (J(0) | J(3) | J(4) | J(7))
/* "Any SMTP command" (RFC 5321 4.3.2): 500 and 501 answer commands, which
 * the greeting is not; 421 may also replace the greeting (RFC 5321 3.8). */
#define C_CMDS (CMDBIT_ANY & ~C_CONN)

/*
 * Basic reply codes, sorted by code.
 *
 * commands: the commands RFC 5321 4.3.2 lists the code for, successes
 * included. RFC 7504 gives 521 to the greeting and 556 to RCPT. The AUTH,
 * ETRN and ATRN codes answer commands a milter never sees: mask 0.
 *
 * default_enhanced: the enhanced code a basic code alone gets. The rule: an
 * enhanced code IANA associates with the basic code whose meaning matches the
 * basic code's own; the class-only X.0.0 when there is none. Every 4xx/5xx
 * default passes codes_check() cleanly (the tests check it). The choices:
 *
 *   2xx     2.0.0   no detail fits a plain success better; 235 gets 2.7.0,
 *                   which RFC 4954 pairs with it
 *   3xx     none    RFC 3463 has no class 3: an intermediate reply carries
 *                   no enhanced code (default_enhanced is NULL)
 *   421     4.3.0   IANA lists 421 with X.3.0 and X.4.2; "bad connection"
 *                   describes a network fault, X.3.0 a system that stops
 *   422     4.7.12  the only enhanced code IANA names it with
 *   430     4.5.1   the only enhanced code IANA names it with
 *   432     4.7.12  RFC 4954 "432 4.7.12 A password transition is needed"
 *   450     4.2.0   "mailbox unavailable": the mailbox subject, no detail
 *   451     4.3.0   "local error in processing": mail system, no detail
 *   452     4.3.1   "insufficient system storage" is X.3.1 "mail system full"
 *   453     4.3.2   IANA lists 453 with X.3.2
 *   454     4.7.0   RFC 4954 "454 4.7.0 Temporary authentication failure"
 *   455     4.3.3   "unable to accommodate parameters": X.3.3 "system not
 *                   capable of selected features"
 *   458 459 4.5.0   IANA lists both with X.5.0 (ETRN)
 *   500     5.5.2   "command unrecognized" is X.5.2; IANA lists 500
 *   501     5.5.4   "syntax error in arguments" is X.5.4; IANA lists 501
 *   502     5.5.2   IANA lists 502 with X.5.2 ("command is unrecognized"),
 *                   not with X.5.1
 *   503     5.5.1   "bad sequence of commands" is X.5.1 "out of sequence"
 *   504     5.5.4   "parameter not implemented"; IANA lists 504 with X.5.4
 *   521     5.3.2   RFC 7504: X.3.2 "system not accepting network messages"
 *   523     5.7.10  the only enhanced code IANA names it with
 *   524     5.7.11  the only enhanced code IANA names it with
 *   525     5.7.13  the only enhanced code IANA names it with
 *   530     5.7.0   RFC 4954 "530 5.7.0 Authentication required"
 *   533     5.7.1   the only enhanced code IANA names it with
 *   534     5.7.9   RFC 4954
 *   535     5.7.8   RFC 4954
 *   538     5.7.11  RFC 4954
 *   550     5.7.1   a policy milter's usual refusal, "delivery not
 *                   authorized"; IANA lists 550 with X.7.1
 *   551     5.1.6   "user not local": X.1.6 "mailbox has moved" (IANA names
 *                   551 only with X.7.1, which says nothing of a move)
 *   552     5.3.4   "exceeded storage allocation" for a message; IANA lists
 *                   552 with X.3.4. X.2.2 "mailbox full" is transient only
 *   553     5.1.0   "mailbox name not allowed": addressing, no detail (IANA
 *                   pairs X.1.3 "bad address syntax" with 501 only)
 *   554     5.3.0   "transaction failed": IANA lists 554 with X.3.0
 *   555     5.5.4   "parameters not recognized": IANA lists 555 with X.5.4
 *   556     5.1.10  RFC 7504 / RFC 7505 "recipient address has null MX"
 *
 * stages: the rule stages whose reply the code's meaning fits (a warning
 * elsewhere). RFC 5321's list for the command, widened where the MTAs send
 * it (practice.c) and where the meaning is general; narrowed where the
 * meaning is about something the stage is not:
 *   421 450 451 550 554   every stage: general refusals
 *   452 552   MAIL to the end of DATA: storage is about a message
 *   455 555   MAIL and RCPT: their parameters
 *   500 503   HELO to DATA: commands; 501 504 HELO, MAIL and RCPT: their
 *             arguments (Postfix's 504 5.5.2 for a non-FQDN address)
 *   502       HELO only (RFC 5321: an old server without EHLO)
 *   521       connect only (RFC 7504: the host takes no mail at all)
 *   530       MAIL to DATA (Postfix and Sendmail: STARTTLS or AUTH first)
 *   551 556   RCPT only: about the recipient; 553 MAIL, RCPT and the
 *             message (addresses in headers)
 *   454 430 422 432 453 458 459 523-538 (AUTH, ETRN, ATRN): none but 454
 *             at MAIL and RCPT, where Postfix sends 454 4.7.1
 * subjects: the enhanced subjects (X.n.x) the meaning fits, used only for
 * a pair neither IANA nor practice knows: 450 451 550 554 any; 421 other,
 * system, network, policy; 452 other, mailbox, system, network, protocol
 * (4.5.3); 552 other, mailbox, system, policy (X.7.16); 553 other,
 * addressing, media (X.6.7), policy; 551 and 556 other, addressing (551
 * also policy: IANA pairs it with X.7.1); the 50x codes other, protocol,
 * policy (501 also addressing: X.1.3, X.1.7); 455 and 555 other, system,
 * protocol (555 also media); the AUTH and ETRN codes their own subject.
 */
/* clang-format off */
static const struct basic_info basic_table[] = {
	{211, "System status, or system help reply", "RFC 5321", 0, "2.0.0",
	 0, 0},
	{214, "Help message", "RFC 5321", 0, "2.0.0",
	 0, 0},
	{220, "Service ready", "RFC 5321", C_CONN, "2.0.0",
	 0, 0},
	{221, "Service closing transmission channel", "RFC 5321", 0,
	 "2.0.0",
	 0, 0},
	{235, "Authentication successful", "RFC 4954", 0, "2.7.0",
	 0, 0},
	{250, "Requested mail action okay, completed", "RFC 5321",
	 C_HELO | C_MAIL | C_RCPT | C_DEND, "2.0.0",
	 0, 0},
	{251, "User not local; will forward", "RFC 5321", C_RCPT, "2.0.0",
	 0, 0},
	{252, "Cannot VRFY user, but will accept message and attempt "
	      "delivery",
	 "RFC 5321", 0, "2.0.0",
	 0, 0},
	{253, "OK, pending messages for node started (ETRN)", "RFC 1985", 0,
	 "2.0.0",
	 0, 0},
	{334, "Server challenge (AUTH)", "RFC 4954", 0, NULL,
	 0, 0},
	{354, "Start mail input; end with <CRLF>.<CRLF>", "RFC 5321", C_DATA,
	 NULL,
	 0, 0},
	{421, "Service not available, closing transmission channel",
	 "RFC 5321", CMDBIT_ANY, "4.3.0",
	 S_ANY, J_CONN},
	{422, "No meaning of its own: IANA names it for X.7.12 (password "
	      "transition needed)",
	 "IANA", 0, "4.7.12",
	 0, J(7)},
	{430, "No meaning of its own: IANA names it for X.5.1 (invalid "
	      "command)",
	 "IANA", 0, "4.5.1",
	 0, J(5)},
	{432, "A password transition is needed", "RFC 4954", 0, "4.7.12",
	 0, J(7)},
	{450, "Requested mail action not taken: mailbox unavailable",
	 "RFC 5321", C_RCPT | C_DEND, "4.2.0",
	 S_ANY, J_ANY},
	{451, "Requested action aborted: local error in processing",
	 "RFC 5321", C_MAIL | C_RCPT | C_DEND, "4.3.0",
	 S_ANY, J_ANY},
	{452, "Requested action not taken: insufficient system storage",
	 "RFC 5321", C_MAIL | C_RCPT | C_DEND, "4.3.1",
	 S_MAIL | S_RCPT | S_DATA | S_MSG, J(0) | J(2) | J(3) | J(4) | J(5)},
	{453, "You have no mail (ATRN)", "RFC 2645", 0, "4.3.2",
	 0, J(3)},
	{454, "Temporary authentication failure", "RFC 4954", 0, "4.7.0",
	 S_MAIL | S_RCPT, J(0) | J(3) | J(5) | J(7)},
	{455, "Server unable to accommodate parameters", "RFC 5321",
	 C_MAIL | C_RCPT, "4.3.3",
	 S_MAIL | S_RCPT, J(0) | J(3) | J(5)},
	{458, "Unable to queue messages for node (ETRN)", "RFC 1985", 0,
	 "4.5.0",
	 0, J(5)},
	{459, "Node not allowed (ETRN)", "RFC 1985", 0, "4.5.0",
	 0, J(5)},
	{500, "Syntax error, command unrecognized", "RFC 5321, RFC 4954",
	 C_CMDS, "5.5.2",
	 S_HELO | S_MAIL | S_RCPT | S_DATA, J(0) | J(5) | J(7)},
	{501, "Syntax error in parameters or arguments", "RFC 5321", C_CMDS,
	 "5.5.4",
	 S_HELO | S_MAIL | S_RCPT, J(0) | J(1) | J(5) | J(7)},
	{502, "Command not implemented", "RFC 5321", C_HELO, "5.5.2",
	 S_HELO, J(0) | J(5) | J(7)},
	{503, "Bad sequence of commands", "RFC 5321",
	 C_MAIL | C_RCPT | C_DATA, "5.5.1",
	 S_HELO | S_MAIL | S_RCPT | S_DATA, J(0) | J(5) | J(7)},
	{504, "Command parameter not implemented", "RFC 5321", C_HELO,
	 "5.5.4",
	 S_HELO | S_MAIL | S_RCPT, J(0) | J(5) | J(7)},
	{521, "Host does not accept mail", "RFC 7504", C_CONN, "5.3.2",
	 S_CONN, J(0) | J(3) | J(7)},
	{523, "Encryption needed", "RFC 5248", 0, "5.7.10",
	 0, J(7)},
	{524, "Encryption required for requested authentication mechanism",
	 "IANA", 0, "5.7.11",
	 0, J(7)},
	{525, "User account disabled", "RFC 5248", 0, "5.7.13",
	 0, J(7)},
	{530, "Authentication required", "RFC 4954", 0, "5.7.0",
	 S_MAIL | S_RCPT | S_DATA, J(0) | J(7)},
	{533, "No meaning of its own: IANA names it for X.7.1 (delivery not "
	      "authorized)",
	 "IANA", 0, "5.7.1",
	 0, J(7)},
	{534, "Authentication mechanism is too weak", "RFC 4954", 0, "5.7.9",
	 0, J(7)},
	{535, "Authentication credentials invalid", "RFC 4954", 0, "5.7.8",
	 0, J(7)},
	{538, "Encryption required for requested authentication mechanism",
	 "RFC 4954", 0, "5.7.11",
	 0, J(7)},
	{550, "Requested action not taken: mailbox unavailable", "RFC 5321",
	 C_HELO | C_MAIL | C_RCPT | C_DEND, "5.7.1",
	 S_ANY, J_ANY},
	{551, "User not local; please try <forward-path>", "RFC 5321", C_RCPT,
	 "5.1.6",
	 S_RCPT, J(0) | J(1) | J(7)},
	{552, "Requested mail action aborted: exceeded storage allocation",
	 "RFC 5321", C_MAIL | C_RCPT | C_DEND, "5.3.4",
	 S_MAIL | S_RCPT | S_DATA | S_MSG, J(0) | J(2) | J(3) | J(7)},
	{553, "Requested action not taken: mailbox name not allowed",
	 "RFC 5321", C_MAIL | C_RCPT, "5.1.0",
	 S_MAIL | S_RCPT | S_MSG, J(0) | J(1) | J(6) | J(7)},
	{554, "Transaction failed (at the greeting: no SMTP service here)",
	 "RFC 5321", C_CONN | C_DATA | C_DEND, "5.3.0",
	 S_ANY, J_ANY},
	{555, "MAIL FROM/RCPT TO parameters not recognized or not "
	      "implemented",
	 "RFC 5321", C_MAIL | C_RCPT, "5.5.4",
	 S_MAIL | S_RCPT, J(0) | J(3) | J(5) | J(6)},
	{556, "Domain does not accept mail", "RFC 7504", C_RCPT, "5.1.10",
	 S_RCPT, J(0) | J(1)},
};
/* clang-format on */

#define NBASIC (sizeof(basic_table) / sizeof(basic_table[0]))

/*
 * Enhanced status codes, sorted by subject then detail: the IANA registry
 * row for row. sample and assoc_text are IANA's text; where IANA's CSV
 * wraps a field over two lines (X.5.0's codes, X.6.8's sample) the line
 * break is one blank here. assoc lists the basic codes assoc_text names; all
 * zero for "Any", "Not given", an empty field, and for X.7.15 and X.7.16,
 * whose "(other 4XX or 5XX codes are allowed)" makes them any. "5XX" sets
 * assoc_class_only.
 *
 * Fix-ups, each asserted by the tests:
 *   X.6.10  IANA gives no sample text ("a duplicate of X.6.8 and is thus
 *           deprecated"): the sample is X.6.8's so a reply never goes out
 *           without text; assoc_text stays IANA's empty field (any code).
 *   X.7.28  IANA's row is misaligned: its basic-code column holds the
 *           description. assoc_text is "Not given" (any code).
 *   X.7.29  RFC 8617 and X.7.30 RFC 8689: registered after the IANA export
 *           the tests read; their basic codes are taken as "Not given".
 *
 * perm: RFC 3463's "only useful for permanent failures" / "useful only as a
 * persistent transient error" (and X.2.2's / X.2.3's "should be used as"),
 * read from IANA's description column.
 *
 * default_basic4 / default_basic5: the basic code an enhanced code alone
 * gets. The rule: among the codes IANA associates of the right class, the
 * one RFC 5321 allows for the most commands a milter answers (ties: the
 * lower code; 421 only when IANA names nothing else, as it closes the
 * connection; codes RFC 5321 allows for no such command never); else 451
 * for class 4 and 550 for class 5. Exceptions, marked (*) below:
 *   4.2.2   452: IANA names only 552, a permanent code, for this transient
 *           detail; 452 is its transient twin (and codes_check accepts it)
 *   4.5.3   452: RFC 5321 4.5.3.1.10 makes 452 the "too many recipients"
 *           reply; IANA lists 451 (codes_check accepts both)
 *   5.7.0   550: the rule picks 500, a syntax error, for a security status
 *   4.7.15  450: IANA's "450, 550 (other 4XX or 5XX codes are allowed)"
 *           names it although it allows any (550 is the rule's anyway)
 *   5.7.16  552: IANA names it although it allows any
 * A permanent-only detail with class 4 and a transient-only detail with
 * class 5 get their default too, but codes_check() warns about them.
 *
 * The result, every default that is not 451 or 550:
 *   4.2.2 452*  4.2.4 452   4.3.1 452   4.4.2 421   4.5.3 452*  4.7.0 450
 *   4.7.15 450*
 *   5.1.3 501   5.1.8 501   5.1.10 556  5.2.2 552   5.2.3 552   5.3.2 521
 *   5.3.4 552   5.5.0 501   5.5.1 500   5.5.2 500   5.5.4 501   5.5.6 500
 *   5.6.3 554   5.6.6 554   5.7.4 504   5.7.8 554   5.7.14 554  5.7.16 552*
 * (4.4.2 gets 421, which closes the connection: IANA names nothing else.)
 */
/* clang-format off */
#define ANY_CODE {0}
#define P_EITHER PERM_EITHER
#define P_PERM PERM_PERMANENT_ONLY
#define P_TRANS PERM_TRANSIENT_ONLY

static const struct enhanced_info enhanced_table[] = {
	{0, 0, "Other undefined Status", "Any", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},

	{1, 0, "Other address status", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{1, 1, "Bad destination mailbox address", "451, 550", {451, 550}, 0,
	 P_PERM, "RFC 3463", 451, 550},
	{1, 2, "Bad destination system address", "Not given", ANY_CODE, 0,
	 P_PERM, "RFC 3463", 451, 550},
	{1, 3, "Bad destination mailbox address syntax", "501", {501}, 0,
	 P_PERM, "RFC 3463", 451, 501},
	{1, 4, "Destination mailbox address ambiguous", "Not given", ANY_CODE,
	 0, P_EITHER, "RFC 3463", 451, 550},
	{1, 5, "Destination address valid", "250", {250}, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{1, 6, "Destination mailbox has moved, No forwarding address",
	 "Not given", ANY_CODE, 0, P_PERM, "RFC 3463", 451, 550},
	{1, 7, "Bad sender's mailbox address syntax", "Not given", ANY_CODE,
	 0, P_EITHER, "RFC 3463", 451, 550},
	{1, 8, "Bad sender's system address", "451, 501", {451, 501}, 0,
	 P_EITHER, "RFC 3463", 451, 501},
	{1, 9, "Message relayed to non-compliant mailer", "Not given",
	 ANY_CODE, 0, P_EITHER, "RFC 3886", 451, 550},
	{1, 10, "Recipient address has null MX", "556", {556}, 0, P_EITHER,
	 "RFC 7505, RFC 7504", 451, 556},

	{2, 0, "Other or undefined mailbox status", "Not given", ANY_CODE, 0,
	 P_EITHER, "RFC 3463", 451, 550},
	{2, 1, "Mailbox disabled, not accepting messages", "Not given",
	 ANY_CODE, 0, P_EITHER, "RFC 3463", 451, 550},
	{2, 2, "Mailbox full", "552", {552}, 0, P_TRANS, "RFC 3463",
	 452 /* (*) */, 552},
	{2, 3, "Message length exceeds administrative limit", "552", {552}, 0,
	 P_PERM, "RFC 3463", 451, 552},
	{2, 4, "Mailing list expansion problem", "450, 452", {450, 452}, 0,
	 P_EITHER, "RFC 3463", 452, 550},

	{3, 0, "Other or undefined mail system status",
	 "221, 250, 421, 451, 550, 554", {221, 250, 421, 451, 550, 554}, 0,
	 P_EITHER, "RFC 3463", 451, 550},
	{3, 1, "Mail system full", "452", {452}, 0, P_TRANS, "RFC 3463", 452,
	 550},
	{3, 2, "System not accepting network messages", "453, 521",
	 {453, 521}, 0, P_EITHER, "RFC 3463, RFC 7504", 451, 521},
	{3, 3, "System not capable of selected features", "Not given",
	 ANY_CODE, 0, P_EITHER, "RFC 3463", 451, 550},
	{3, 4, "Message too big for system", "552, 554", {552, 554}, 0,
	 P_PERM, "RFC 3463", 451, 552},
	{3, 5, "System incorrectly configured", "Not given", ANY_CODE, 0,
	 P_EITHER, "RFC 3463", 451, 550},
	{3, 6, "Requested priority was changed", "250 or 251", {250, 251}, 0,
	 P_EITHER, "RFC 6710", 451, 550},

	{4, 0, "Other or undefined network or routing status", "Not given",
	 ANY_CODE, 0, P_EITHER, "RFC 3463", 451, 550},
	{4, 1, "No answer from host", "451", {451}, 0, P_TRANS, "RFC 3463",
	 451, 550},
	{4, 2, "Bad connection", "421", {421}, 0, P_TRANS, "RFC 3463", 421,
	 550},
	{4, 3, "Directory server failure", "451, 550", {451, 550}, 0, P_TRANS,
	 "RFC 3463", 451, 550},
	{4, 4, "Unable to route", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{4, 5, "Mail system congestion", "451", {451}, 0, P_TRANS, "RFC 3463",
	 451, 550},
	{4, 6, "Routing loop detected", "Not given", ANY_CODE, 0, P_TRANS,
	 "RFC 3463", 451, 550},
	{4, 7, "Delivery time expired", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},

	{5, 0, "Other or undefined protocol status",
	 "220, 250, 251, 252, 253, 451, 452, 454, 458, 459, 501, 502, 503, "
	 "554",
	 {220, 250, 251, 252, 253, 451, 452, 454, 458, 459, 501, 502, 503,
	  554},
	 0, P_EITHER, "RFC 3463", 451, 501},
	{5, 1, "Invalid command", "430, 500, 501, 503, 530, 550, 554, 555",
	 {430, 500, 501, 503, 530, 550, 554, 555}, 0, P_PERM, "RFC 3463", 451,
	 500},
	{5, 2, "Syntax error", "500, 501, 502, 550, 555",
	 {500, 501, 502, 550, 555}, 0, P_PERM, "RFC 3463", 451, 500},
	{5, 3, "Too many recipients", "451", {451}, 0, P_EITHER, "RFC 3463",
	 452 /* (*) */, 550},
	{5, 4, "Invalid command arguments",
	 "451, 501, 502, 503, 504, 550, 555",
	 {451, 501, 502, 503, 504, 550, 555}, 0, P_PERM, "RFC 3463", 451,
	 501},
	{5, 5, "Wrong protocol version", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{5, 6, "Authentication Exchange line is too long", "500", {500}, 0,
	 P_EITHER, "RFC 4954", 451, 500},

	{6, 0, "Other or undefined media error", "Not given", ANY_CODE, 0,
	 P_EITHER, "RFC 3463", 451, 550},
	{6, 1, "Media not supported", "Not given", ANY_CODE, 0, P_PERM,
	 "RFC 3463", 451, 550},
	{6, 2, "Conversion required and prohibited", "Not given", ANY_CODE, 0,
	 P_EITHER, "RFC 3463", 451, 550},
	{6, 3, "Conversion required but not supported", "554", {554}, 0,
	 P_EITHER, "RFC 3463", 451, 554},
	{6, 4, "Conversion with loss performed", "250", {250}, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{6, 5, "Conversion Failed", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{6, 6, "Message content not available", "554", {554}, 0, P_EITHER,
	 "RFC 4468", 451, 554},
	{6, 7, "Non-ASCII addresses not permitted for that sender/recipient",
	 "553, 550", {553, 550}, 0, P_EITHER, "RFC 6531", 451, 550},
	{6, 8,
	 "UTF-8 string reply is required, but not permitted by the SMTP "
	 "client",
	 "252, 553, 550", {252, 553, 550}, 0, P_EITHER, "RFC 6531", 451, 550},
	{6, 9,
	 "UTF-8 header message cannot be transferred to one or more "
	 "recipients, so the message must be rejected",
	 "550", {550}, 0, P_EITHER, "RFC 6531", 451, 550},
	{6, 10, /* fix-up: IANA has no sample text, see above */
	 "UTF-8 string reply is required, but not permitted by the SMTP "
	 "client",
	 "", ANY_CODE, 0, P_EITHER, "RFC 6531", 451, 550},

	{7, 0, "Other or undefined security status",
	 "220, 235, 450, 454, 500, 501, 503, 504, 530, 535, 550",
	 {220, 235, 450, 454, 500, 501, 503, 504, 530, 535, 550}, 0, P_EITHER,
	 "RFC 3463", 450, 550 /* (*) */},
	{7, 1, "Delivery not authorized, message refused",
	 "451, 454, 502, 503, 533, 550, 551",
	 {451, 454, 502, 503, 533, 550, 551}, 0, P_PERM, "RFC 3463", 451,
	 550},
	{7, 2, "Mailing list expansion prohibited", "550", {550}, 0, P_PERM,
	 "RFC 3463", 451, 550},
	{7, 3, "Security conversion required but not possible", "Not given",
	 ANY_CODE, 0, P_PERM, "RFC 3463", 451, 550},
	{7, 4, "Security features not supported", "504", {504}, 0, P_PERM,
	 "RFC 3463", 451, 504},
	{7, 5, "Cryptographic failure", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 3463", 451, 550},
	{7, 6, "Cryptographic algorithm not supported", "Not given", ANY_CODE,
	 0, P_EITHER, "RFC 3463", 451, 550},
	{7, 7, "Message integrity failure", "Not given", ANY_CODE, 0,
	 P_EITHER, "RFC 3463", 451, 550},
	{7, 8, "Authentication credentials invalid", "535, 554", {535, 554},
	 0, P_EITHER, "RFC 4954", 451, 554},
	{7, 9, "Authentication mechanism is too weak", "534", {534}, 0,
	 P_EITHER, "RFC 4954", 451, 550},
	{7, 10, "Encryption Needed", "523", {523}, 0, P_EITHER, "RFC 5248",
	 451, 550},
	{7, 11, "Encryption required for requested authentication mechanism",
	 "524, 538", {524, 538}, 0, P_EITHER, "RFC 4954", 451, 550},
	{7, 12, "A password transition is needed", "422, 432", {422, 432}, 0,
	 P_EITHER, "RFC 4954", 451, 550},
	{7, 13, "User Account Disabled", "525", {525}, 0, P_EITHER,
	 "RFC 5248", 451, 550},
	{7, 14, "Trust relationship required", "535, 554", {535, 554}, 0,
	 P_EITHER, "RFC 5248", 451, 554},
	{7, 15, "Priority Level is too low",
	 "450, 550 (other 4XX or 5XX codes are allowed)", ANY_CODE, 0,
	 P_EITHER, "RFC 6710", 450 /* (*) */, 550},
	{7, 16, "Message is too big for the specified priority",
	 "552 (other 4XX or 5XX codes are allowed)", ANY_CODE, 0, P_EITHER,
	 "RFC 6710", 451, 552 /* (*) */},
	{7, 17, "Mailbox owner has changed", "5XX", ANY_CODE, 5, P_EITHER,
	 "RFC 7293", 451, 550},
	{7, 18, "Domain owner has changed", "5XX", ANY_CODE, 5, P_EITHER,
	 "RFC 7293", 451, 550},
	{7, 19, "RRVS test cannot be completed", "5XX", ANY_CODE, 5, P_EITHER,
	 "RFC 7293", 451, 550},
	{7, 20, "No passing DKIM signature found", "550", {550}, 0, P_EITHER,
	 "RFC 7372, RFC 6376", 451, 550},
	{7, 21, "No acceptable DKIM signature found", "550", {550}, 0,
	 P_EITHER, "RFC 7372, RFC 6376", 451, 550},
	{7, 22, "No valid author-matched DKIM signature found", "550", {550},
	 0, P_EITHER, "RFC 7372, RFC 6376", 451, 550},
	{7, 23, "SPF validation failed", "550", {550}, 0, P_EITHER,
	 "RFC 7372, RFC 7208", 451, 550},
	{7, 24, "SPF validation error", "451, 550", {451, 550}, 0, P_EITHER,
	 "RFC 7372, RFC 7208", 451, 550},
	{7, 25, "Reverse DNS validation failed", "550", {550}, 0, P_EITHER,
	 "RFC 7372, RFC 7601", 451, 550},
	{7, 26, "Multiple authentication checks failed", "550", {550}, 0,
	 P_EITHER, "RFC 7372", 451, 550},
	{7, 27, "Sender address has null MX", "550", {550}, 0, P_EITHER,
	 "RFC 7505", 451, 550},
	{7, 28, "Mail flood detected", /* fix-up: see above */ "Not given",
	 ANY_CODE, 0, P_EITHER, "draft-levine-mailbomb-header", 451, 550},
	{7, 29, "ARC validation failure", "Not given", ANY_CODE, 0, P_EITHER,
	 "RFC 8617", 451, 550},
	{7, 30, "REQUIRETLS support required", "Not given", ANY_CODE, 0,
	 P_EITHER, "RFC 8689", 451, 550},
};
/* clang-format on */

#define NENHANCED (sizeof(enhanced_table) / sizeof(enhanced_table[0]))

const struct basic_info *codes_basic(int code)
{
	for (size_t i = 0; i < NBASIC; i++)
		if (basic_table[i].code == code)
			return &basic_table[i];
	return NULL;
}

const struct enhanced_info *codes_enhanced(int subject, int detail)
{
	for (size_t i = 0; i < NENHANCED; i++)
		if (enhanced_table[i].subject == subject &&
		    enhanced_table[i].detail == detail)
			return &enhanced_table[i];
	return NULL;
}

size_t codes_basic_count(void)
{
	return NBASIC;
}

const struct basic_info *codes_basic_at(size_t i)
{
	return i < NBASIC ? &basic_table[i] : NULL;
}

size_t codes_enhanced_count(void)
{
	return NENHANCED;
}

const struct enhanced_info *codes_enhanced_at(size_t i)
{
	return i < NENHANCED ? &enhanced_table[i] : NULL;
}

/* ---- parsing ------------------------------------------------------------ */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Copy at most 24 bytes of s[0..n) into buf for an error message, printable
 * characters only, "..." when cut. */
static const char *quote(const char *s, size_t n, char *buf, size_t buflen)
{
	size_t lim = 24, j = 0;

	for (size_t i = 0; i < n && i < lim && j + 4 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[j++] = (c > 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n > lim && j + 4 < buflen) {
		memcpy(buf + j, "...", 3);
		j += 3;
	}
	buf[j] = '\0';
	return buf;
}

/* A 3-digit basic code in s[0..n): 200..599. */
static int parse_basic(const char *s, size_t n, int *out, char *err,
		       size_t errlen)
{
	char q[32];

	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i])) {
			snprintf(err, errlen,
				 "\"%s\" is not a reply code: a reply code is "
				 "three digits, e.g. 550",
				 quote(s, n, q, sizeof(q)));
			return -1;
		}
	}
	if (n != 3) {
		snprintf(err, errlen,
			 "reply code \"%s\" does not have exactly three "
			 "digits",
			 quote(s, n, q, sizeof(q)));
		return -1;
	}
	*out = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	if (*out < 200 || *out > 599) {
		snprintf(err, errlen,
			 "reply code %d is outside 200 to 599: a milter "
			 "replies with 4xx or 5xx",
			 *out);
		return -1;
	}
	return 0;
}

/* One part of an enhanced code: 1 to 3 digits, no leading zero. */
static int parse_part(const char *tok, size_t toklen, const char *s, size_t n,
		      const char *what, int *out, char *err, size_t errlen)
{
	char q[32];

	if (n > 1 && s[0] == '0') {
		snprintf(err, errlen,
			 "enhanced code \"%s\": the %s %.*s has a leading "
			 "zero, which RFC 3463 does not allow",
			 quote(tok, toklen, q, sizeof(q)), what,
			 (int)(n < 8 ? n : 8), s);
		return -1;
	}
	if (n > 3) {
		snprintf(err, errlen,
			 "enhanced code \"%s\": the %s has more than 3 digits",
			 quote(tok, toklen, q, sizeof(q)), what);
		return -1;
	}
	*out = 0;
	for (size_t i = 0; i < n; i++)
		*out = *out * 10 + (s[i] - '0');
	return 0;
}

/* class.subject.detail in s[0..n). */
static int parse_enhanced(const char *s, size_t n, struct reply_code *rc,
			  char *err, size_t errlen)
{
	static const char *const what[3] = {"class", "subject", "detail"};
	int val[3];
	size_t start = 0, part = 0;
	char q[32];

	for (size_t i = 0; i <= n; i++) {
		if (i < n && is_digit(s[i]))
			continue;
		if ((i < n && s[i] != '.') || i == start || part == 3 ||
		    (i == n && part != 2))
			goto form;
		if (parse_part(s, n, s + start, i - start, what[part],
			       &val[part], err, errlen) != 0)
			return -1;
		part++;
		start = i + 1;
	}
	if (val[0] != 2 && val[0] != 4 && val[0] != 5) {
		snprintf(err, errlen,
			 "enhanced code \"%s\": the class %d is not 2 "
			 "(success), 4 (transient failure) or 5 (permanent "
			 "failure)",
			 quote(s, n, q, sizeof(q)), val[0]);
		return -1;
	}
	rc->enh_class = val[0];
	rc->enh_subject = val[1];
	rc->enh_detail = val[2];
	return 0;
form:
	snprintf(err, errlen,
		 "\"%s\" is not an enhanced code of the form "
		 "class.subject.detail, e.g. 5.7.1",
		 quote(s, n, q, sizeof(q)));
	return -1;
}

static bool has_dot(const char *s, size_t n)
{
	return memchr(s, '.', n) != NULL;
}

/* The enhanced code a basic code alone gets. */
static void fill_enhanced(struct reply_code *rc)
{
	const struct basic_info *b = codes_basic(rc->basic);
	int cls = rc->basic / 100;
	char scratch[8];

	rc->enh_class = 0;
	rc->enh_subject = 0;
	rc->enh_detail = 0;
	if (b != NULL && b->default_enhanced != NULL &&
	    parse_enhanced(b->default_enhanced, strlen(b->default_enhanced), rc,
			   scratch, sizeof(scratch)) == 0)
		return;
	if (cls == 2 || cls == 4 || cls == 5)
		rc->enh_class = cls;
}

/* The basic code an enhanced code alone gets. */
static void fill_basic(struct reply_code *rc)
{
	const struct enhanced_info *e =
	    codes_enhanced(rc->enh_subject, rc->enh_detail);

	switch (rc->enh_class) {
	case 2:
		rc->basic = 250;
		break;
	case 4:
		rc->basic = e != NULL ? e->default_basic4 : 451;
		break;
	default:
		rc->basic = e != NULL ? e->default_basic5 : 550;
		break;
	}
}

int codes_parse_spec(const char *spec, struct reply_code *out, char *err,
		     size_t errlen)
{
	const char *tok[2], *p;
	size_t len[2], ntok = 0;
	struct reply_code rc = {0};
	char q[32];

	if (spec == NULL) {
		snprintf(err, errlen, "no reply code given");
		return -1;
	}
	p = spec;
	for (;;) {
		while (is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		if (ntok == 2) {
			snprintf(err, errlen,
				 "unexpected text \"%s\" after the codes: "
				 "write a reply code, an enhanced code or "
				 "both, e.g. \"550 5.7.1\"",
				 quote(p, strlen(p), q, sizeof(q)));
			return -1;
		}
		tok[ntok] = p;
		while (*p != '\0' && !is_blank(*p))
			p++;
		len[ntok] = (size_t)(p - tok[ntok]);
		ntok++;
	}
	if (ntok == 0) {
		snprintf(err, errlen,
			 "empty reply: give a reply code (550), an enhanced "
			 "code (5.7.1) or both (550 5.7.1)");
		return -1;
	}
	if (ntok == 2) {
		bool d0 = has_dot(tok[0], len[0]), d1 = has_dot(tok[1], len[1]);
		if (d0 && !d1) {
			snprintf(err, errlen,
				 "write the reply code before the enhanced "
				 "code, e.g. \"550 5.7.1\"");
			return -1;
		}
		if (d0 == d1) {
			snprintf(err, errlen,
				 "expected one reply code and one enhanced "
				 "code, e.g. \"550 5.7.1\", got two %s",
				 d0 ? "enhanced codes" : "reply codes");
			return -1;
		}
		if (parse_basic(tok[0], len[0], &rc.basic, err, errlen) != 0 ||
		    parse_enhanced(tok[1], len[1], &rc, err, errlen) != 0)
			return -1;
	} else if (has_dot(tok[0], len[0])) {
		if (parse_enhanced(tok[0], len[0], &rc, err, errlen) != 0)
			return -1;
		fill_basic(&rc);
	} else {
		if (parse_basic(tok[0], len[0], &rc.basic, err, errlen) != 0)
			return -1;
		fill_enhanced(&rc);
	}
	*out = rc;
	return 0;
}

int codes_format(const struct reply_code *rc, char *buf, size_t buflen)
{
	if (rc->enh_class == 0)
		return snprintf(buf, buflen, "%d", rc->basic);
	return snprintf(buf, buflen, "%d %d.%d.%d", rc->basic, rc->enh_class,
			rc->enh_subject, rc->enh_detail);
}

int codes_format_enhanced(const struct reply_code *rc, char *buf, size_t buflen)
{
	if (rc->enh_class == 0)
		return snprintf(buf, buflen, "%s", "");
	return snprintf(buf, buflen, "%d.%d.%d", rc->enh_class, rc->enh_subject,
			rc->enh_detail);
}

/* ---- checks ------------------------------------------------------------- */

const char *finding_severity_name(enum finding_severity s)
{
	switch (s) {
	case FINDING_ERROR:
		return "error";
	case FINDING_WARNING:
		return "warning";
	default:
		return "note";
	}
}

__attribute__((format(printf, 4, 5))) static struct finding *
add(struct findings *out, enum finding_severity sev,
    const struct reply_code *suggestion, const char *fmt, ...)
{
	va_list ap;
	struct finding *f;

	if (out == NULL || out->count >= FINDINGS_MAX)
		return NULL;
	f = &out->item[out->count++];
	f->severity = sev;
	f->suggests = suggestion != NULL;
	if (suggestion != NULL)
		f->suggestion = *suggestion;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	return f;
}

static const char *class_phrase(int cls)
{
	switch (cls) {
	case 2:
		return "a success reply (2xx)";
	case 3:
		return "an intermediate reply (3xx)";
	case 4:
		return "a transient failure (4xx)";
	default:
		return "a permanent failure (5xx)";
	}
}

static const char *cmd_phrase(enum smtp_cmd c)
{
	switch (c) {
	case CMD_CONNECT:
		return "the greeting";
	case CMD_DATA_END:
		return "the end of DATA";
	default:
		return smtp_cmd_name(c);
	}
}

static const char *subject_phrase(int s)
{
	static const char *const names[8] = {
	    "other",	       "addressing",	      "mailbox",
	    "mail system",     "network and routing", "mail delivery protocol",
	    "message content", "security or policy",
	};
	return s >= 0 && s < 8 ? names[s] : "unknown";
}

/* "MAIL, RCPT and the end of DATA" */
static void cmd_list(unsigned mask, char *buf, size_t buflen)
{
	size_t n = 0, total = 0, used = 0;

	for (int c = 0; c < CMD_COUNT; c++)
		if (mask & CMDBIT(c))
			total++;
	buf[0] = '\0';
	for (int c = 0; c < CMD_COUNT; c++) {
		if (!(mask & CMDBIT(c)))
			continue;
		n++;
		const char *sep = ", ";
		if (n == 1)
			sep = "";
		else if (n == total)
			sep = " and ";
		int w = snprintf(buf + used, buflen - used, "%s%s", sep,
				 cmd_phrase((enum smtp_cmd)c));
		if (w < 0 || (size_t)w >= buflen - used)
			return;
		used += (size_t)w;
	}
}

/* Does IANA name basic for e, by number or by class ("5XX")? */
static bool iana_lists(const struct enhanced_info *e, int basic)
{
	if (e->assoc_class_only != 0)
		return basic / 100 == e->assoc_class_only;
	for (size_t i = 0; i < CODES_MAX_ASSOC && e->assoc[i] != 0; i++)
		if (e->assoc[i] == basic)
			return true;
	return false;
}

/* IANA names no basic code for e ("Any", "Not given"): any will do. */
static bool iana_any(const struct enhanced_info *e)
{
	return e->assoc_class_only == 0 && e->assoc[0] == 0;
}

static const struct practice_pair *practice_first(const struct reply_code *rc)
{
	size_t from = 0;

	return codes_practice_next(rc, &from);
}

/* A practice row that sends basic (with any enhanced code) at cmd. */
static const struct practice_pair *practice_basic_at(int basic,
						     enum smtp_cmd cmd)
{
	for (size_t i = 0; i < codes_practice_count(); i++) {
		const struct practice_pair *p = codes_practice_at(i);
		if (p->basic == basic && (p->commands & CMDBIT(cmd)))
			return p;
	}
	return NULL;
}

/* May the command cmd get basic: RFC 5321 lists it, or practice sends it. */
static bool command_allows(int basic, enum smtp_cmd cmd)
{
	const struct basic_info *b = codes_basic(basic);

	return (b != NULL && (b->commands & CMDBIT(cmd))) ||
	       practice_basic_at(basic, cmd) != NULL;
}

/* The class a verdict's reply must have; 0 for the verdicts without one. */
static int verdict_class(enum verdict v)
{
	return v == VERDICT_REJECT ? 5 : v == VERDICT_TEMPFAIL ? 4 : 0;
}

static int check(const struct reply_code *rc, enum verdict v, enum stage st,
		 bool held, struct findings *out, bool suggest);

/* Could the lint propose c for a rule of stage st with verdict v? */
static bool suggestible(const struct reply_code *c, enum verdict v,
			enum stage st, bool held)
{
	const struct enhanced_info *e =
	    codes_enhanced(c->enh_subject, c->enh_detail);
	int want = verdict_class(v);
	struct findings f = {0};

	if (c->basic / 100 != c->enh_class ||
	    (want != 0 && want != c->enh_class))
		return false;
	if (e == NULL || !(iana_lists(e, c->basic) || iana_any(e) ||
			   practice_first(c) != NULL))
		return false;
	if (want != 0 &&
	    !command_allows(c->basic, stage_reply_command(st, held)))
		return false;
	if (check(c, v, st, held, &f, false) != 0)
		return false;
	for (size_t i = 0; i < f.count; i++)
		if (f.item[i].severity != FINDING_NOTE)
			return false;
	return true;
}

/* Try basic with rc's enhanced code (class cls); true when it will do. */
static bool try_basic(struct reply_code *out, const struct reply_code *rc,
		      int cls, int basic, enum verdict v, enum stage st,
		      bool held)
{
	struct reply_code c = {basic, cls, rc->enh_subject, rc->enh_detail};

	/* 421 and 521 close the connection: never the lint's idea */
	if ((basic == 421 || basic == 521) && basic != rc->basic)
		return false;
	if (basic == 0 || !suggestible(&c, v, st, held))
		return false;
	*out = c;
	return true;
}

/*
 * A clean pair that keeps rc's enhanced code and changes the basic code:
 * first one practice sends at the carrying command, then one IANA lists,
 * then the registry's default, then the plain 451 or 550.
 */
static bool suggest_basic(const struct reply_code *rc, int cls, enum verdict v,
			  enum stage st, bool held, struct reply_code *out)
{
	const struct enhanced_info *e =
	    codes_enhanced(rc->enh_subject, rc->enh_detail);
	enum smtp_cmd cmd = stage_reply_command(st, held);

	if (e == NULL)
		return false;
	/* pass 0: rows sent at the carrying command; pass 1: any row */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < codes_practice_count(); i++) {
			const struct practice_pair *p = codes_practice_at(i);
			if (p->enh_class == cls &&
			    p->enh_subject == rc->enh_subject &&
			    p->enh_detail == rc->enh_detail &&
			    (pass == 1 || (p->commands & CMDBIT(cmd))) &&
			    try_basic(out, rc, cls, p->basic, v, st, held))
				return true;
		}
	}
	for (size_t i = 0; i < CODES_MAX_ASSOC && e->assoc[i] != 0; i++)
		if (e->assoc[i] / 100 == cls &&
		    try_basic(out, rc, cls, e->assoc[i], v, st, held))
			return true;
	return try_basic(out, rc, cls,
			 cls == 4 ? e->default_basic4 : e->default_basic5, v,
			 st, held) ||
	       try_basic(out, rc, cls, cls == 4 ? 451 : 550, v, st, held);
}

/* Try rc's basic code (or basic) with enhanced code cls.s.d. */
static bool try_enhanced(struct reply_code *out, int basic, int cls, int s,
			 int d, enum verdict v, enum stage st, bool held)
{
	struct reply_code c = {basic, cls, s, d};

	if (!suggestible(&c, v, st, held))
		return false;
	*out = c;
	return true;
}

/*
 * A clean pair that keeps rc's basic code (when its class is right) and
 * changes the enhanced code: the same subject with detail 0, the basic
 * code's default, a pair practice sends with it; failing all, the
 * class's plain default pair.
 */
static bool suggest_enhanced(const struct reply_code *rc, int cls,
			     enum verdict v, enum stage st, bool held,
			     struct reply_code *out)
{
	int basic = rc->basic / 100 == cls ? rc->basic : 0;
	const struct basic_info *b = codes_basic(basic);
	struct reply_code parsed;

	if (basic != 0) {
		if (try_enhanced(out, basic, cls, rc->enh_subject, 0, v, st,
				 held))
			return true;
		if (b != NULL && b->default_enhanced != NULL &&
		    sscanf(b->default_enhanced, "%d.%d.%d", &parsed.enh_class,
			   &parsed.enh_subject, &parsed.enh_detail) == 3 &&
		    try_enhanced(out, basic, cls, parsed.enh_subject,
				 parsed.enh_detail, v, st, held))
			return true;
		for (size_t i = 0; i < codes_practice_count(); i++) {
			const struct practice_pair *p = codes_practice_at(i);
			if (p->basic == basic &&
			    try_enhanced(out, basic, cls, p->enh_subject,
					 p->enh_detail, v, st, held))
				return true;
		}
	}
	basic = cls == 4 ? 451 : 550;
	return try_enhanced(out, basic, cls, rc->enh_subject, 0, v, st, held) ||
	       try_enhanced(out, basic, cls, 7, 1, v, st, held) ||
	       try_enhanced(out, basic, cls, 0, 0, v, st, held);
}

/* ", e.g. 550 5.7.1" into buf, or "" */
static const char *eg(const struct reply_code *c, char *buf, size_t buflen)
{
	char code[32];

	if (c == NULL) {
		buf[0] = '\0';
		return buf;
	}
	codes_format(c, code, sizeof(code));
	snprintf(buf, buflen, ": use %s", code);
	return buf;
}

/* "Postfix sends it (Relay access denied)" into buf. */
static const char *who_sends(const struct practice_pair *p, char *buf,
			     size_t buflen)
{
	snprintf(buf, buflen, "%s sends it (\"%s\")", p->who, p->what);
	return buf;
}

static void check_pairing(const struct reply_code *rc, enum verdict v,
			  enum stage st, bool held, struct findings *out,
			  bool suggest)
{
	const struct enhanced_info *e =
	    codes_enhanced(rc->enh_subject, rc->enh_detail);
	const struct basic_info *b = codes_basic(rc->basic);
	const struct practice_pair *prac = practice_first(rc);
	int cls = rc->basic / 100, s = rc->enh_subject, d = rc->enh_detail;
	struct reply_code sug, *sp;
	bool listed, perm_clash;
	const char *perm_word;
	char ebuf[48], wbuf[160];

	if (e == NULL) {
		const struct private_code *pc = codes_private(rc);
		sp = suggest && suggest_enhanced(rc, cls, v, st, held, &sug)
			 ? &sug
			 : NULL;
		if (pc != NULL)
			add(out, FINDING_WARNING, sp,
			    "enhanced code %d.%d.%d is unregistered: it is "
			    "%s's own code (%s), not in the IANA registry, "
			    "and other clients only understand its class%s",
			    cls, s, d, pc->who, pc->what,
			    eg(sp, ebuf, sizeof(ebuf)));
		else
			add(out, FINDING_WARNING, sp,
			    "enhanced code %d.%d.%d is unregistered: the IANA "
			    "registry of enhanced status codes does not list "
			    "it, and clients only understand its class%s",
			    cls, s, d, eg(sp, ebuf, sizeof(ebuf)));
		return;
	}
	listed = iana_lists(e, rc->basic);
	perm_clash = (e->perm == PERM_TRANSIENT_ONLY && cls == 5) ||
		     (e->perm == PERM_PERMANENT_ONLY && cls == 4);
	perm_word = e->perm == PERM_TRANSIENT_ONLY ? "transient" : "permanent";

	if (!listed && prac == NULL) {
		/* Neither IANA nor practice pairs them: judge the meaning. */
		bool fits = b == NULL || (b->subjects & (1u << (s & 7))) != 0;
		if (perm_clash || !fits) {
			sp =
			    suggest && suggest_basic(rc, cls, v, st, held, &sug)
				? &sug
				: NULL;
			if (sp == NULL && suggest)
				sp =
				    suggest_enhanced(rc, cls, v, st, held, &sug)
					? &sug
					: NULL;
		}
		if (perm_clash) {
			add(out, FINDING_WARNING, sp,
			    "RFC 3463 gives %d.%d.%d to %s failures only, %d "
			    "is %s, and neither IANA nor the MTAs in practice "
			    "pair them%s",
			    cls, s, d, perm_word, rc->basic, class_phrase(cls),
			    eg(sp, ebuf, sizeof(ebuf)));
			return;
		}
		if (!fits) {
			add(out, FINDING_WARNING, sp,
			    "neither IANA nor the MTAs in practice pair %d "
			    "with X.%d.%d, and %d (\"%s\") does not fit "
			    "its subject, %s (X.%d.x)%s",
			    rc->basic, s, d, rc->basic, b->meaning,
			    subject_phrase(s), s, eg(sp, ebuf, sizeof(ebuf)));
			return;
		}
		if (!iana_any(e))
			add(out, FINDING_NOTE, NULL,
			    "IANA lists X.%d.%d with %s, not with %d", s, d,
			    e->assoc_text, rc->basic);
		return;
	}
	if (!listed && !iana_any(e))
		add(out, FINDING_NOTE, NULL,
		    "IANA lists X.%d.%d with %s, not with %d; %s", s, d,
		    e->assoc_text, rc->basic,
		    who_sends(prac, wbuf, sizeof(wbuf)));
	if (perm_clash) {
		if (listed)
			snprintf(wbuf, sizeof(wbuf), "IANA lists %d for it",
				 rc->basic);
		else
			who_sends(prac, wbuf, sizeof(wbuf));
		add(out, FINDING_NOTE, NULL,
		    "RFC 3463 says X.%d.%d is useful only for %s failures, "
		    "but %d is %s; %s",
		    s, d, perm_word, rc->basic, class_phrase(cls), wbuf);
	}
}

/* The document whose command lists a finding cites for b. */
static const char *list_ref(const struct basic_info *b)
{
	return strstr(b->reference, "RFC 5321") != NULL ? "RFC 5321"
							: b->reference;
}

/* Is the basic code right where the rule's reply goes? */
static void check_command(const struct reply_code *rc, enum verdict v,
			  enum stage st, bool held, struct findings *out,
			  bool suggest)
{
	const struct basic_info *b = codes_basic(rc->basic);
	enum smtp_cmd cmd = stage_reply_command(st, held);
	const struct practice_pair *p;
	int cls = rc->basic / 100;
	struct reply_code sug, *sp = NULL;
	char list[96], ebuf[48], carrier[96];

	if (b == NULL || !(b->stages & STAGEBIT(st))) {
		if (suggest && (suggest_basic(rc, cls, v, st, held, &sug) ||
				suggest_enhanced(rc, cls, v, st, held, &sug)))
			sp = &sug;
		if (b == NULL)
			add(out, FINDING_WARNING, sp,
			    "reply code %d is not defined by RFC 5321 nor "
			    "named by the IANA registry: clients only read its "
			    "first digit%s",
			    rc->basic, eg(sp, ebuf, sizeof(ebuf)));
		else if (b->stages == 0)
			add(out, FINDING_WARNING, sp,
			    "%d (\"%s\") answers a command a milter never "
			    "sees%s",
			    rc->basic, b->meaning, eg(sp, ebuf, sizeof(ebuf)));
		else
			add(out, FINDING_WARNING, sp,
			    "%d (\"%s\") does not fit a rule at the %s "
			    "stage%s",
			    rc->basic, b->meaning, stage_name(st),
			    eg(sp, ebuf, sizeof(ebuf)));
		return;
	}
	if (b->commands & CMDBIT(cmd))
		return;
	if (st == STAGE_CONNECT || st == STAGE_HELO)
		snprintf(carrier, sizeof(carrier),
			 "%s, which carries the reply of a %s rule%s",
			 cmd_phrase(cmd), stage_name(st),
			 held ? " held by hold_early_verdicts" : "");
	else
		snprintf(carrier, sizeof(carrier), "%s", cmd_phrase(cmd));
	/* who sends this very pair there, else this basic code there */
	for (size_t from = 0; (p = codes_practice_next(rc, &from)) != NULL &&
			      !(p->commands & CMDBIT(cmd));)
		;
	if (p == NULL)
		p = practice_basic_at(rc->basic, cmd);
	if (p != NULL) {
		add(out, FINDING_NOTE, NULL,
		    "%s does not list %d as a reply to %s; %s sends "
		    "%d %d.%d.%d there (\"%s\")",
		    list_ref(b), rc->basic, carrier, p->who, p->basic,
		    p->enh_class, p->enh_subject, p->enh_detail, p->what);
		return;
	}
	if (b->commands == 0)
		snprintf(list, sizeof(list), "no command a milter answers");
	else
		cmd_list(b->commands, list, sizeof(list));
	add(out, FINDING_NOTE, NULL,
	    "%s does not list %d as a reply to %s (it lists it for %s)",
	    list_ref(b), rc->basic, carrier, list);
}

/*
 * The errors counted in the return value include any that did not fit in
 * out (or all of them when out is NULL), so a full list never hides one.
 */
static int check(const struct reply_code *rc, enum verdict v, enum stage st,
		 bool held, struct findings *out, bool suggest)
{
	int nerr = 0, cls;
	bool replies = verdict_sends_reply(v);
	struct reply_code sug, *sp = NULL;
	char ebuf[48];

	if (rc == NULL) {
		add(out, FINDING_ERROR, NULL, "no reply code given");
		return 1;
	}
	if ((unsigned)v >= VERDICT_COUNT) {
		add(out, FINDING_ERROR, NULL, "unknown verdict %d", (int)v);
		nerr++;
	}
	if ((unsigned)st >= STAGE_COUNT) {
		add(out, FINDING_ERROR, NULL, "unknown stage %d", (int)st);
		nerr++;
	}
	if (rc->basic < 200 || rc->basic > 599) {
		add(out, FINDING_ERROR, NULL,
		    "reply code %d is outside 200 to 599: a milter replies "
		    "with 4xx or 5xx",
		    rc->basic);
		nerr++;
	}
	if (rc->enh_class != 0 && rc->enh_class != 2 && rc->enh_class != 4 &&
	    rc->enh_class != 5) {
		add(out, FINDING_ERROR, NULL,
		    "enhanced code class %d is not 2, 4 or 5", rc->enh_class);
		nerr++;
	}
	if (rc->enh_subject < 0 || rc->enh_subject > 999 ||
	    rc->enh_detail < 0 || rc->enh_detail > 999) {
		add(out, FINDING_ERROR, NULL,
		    "enhanced code %d.%d.%d has a part outside 0 to 999",
		    rc->enh_class, rc->enh_subject, rc->enh_detail);
		nerr++;
	}
	if (nerr > 0)
		return nerr;

	cls = rc->basic / 100;
	if (cls == 2 || cls == 3) {
		if (replies)
			add(out, FINDING_ERROR, NULL,
			    "a %s rule needs a %s reply code, but %d is %s",
			    verdict_name(v),
			    v == VERDICT_REJECT ? "permanent failure (5xx)"
						: "transient failure (4xx)",
			    rc->basic, class_phrase(cls));
		else
			add(out, FINDING_ERROR, NULL,
			    "reply code %d is %s: a milter can only send 4xx "
			    "and 5xx replies",
			    rc->basic, class_phrase(cls));
		nerr++;
	} else if (v == VERDICT_REJECT && cls == 4) {
		add(out, FINDING_ERROR, NULL,
		    "a reject rule needs a permanent failure reply code (5xx), "
		    "but %d is a transient failure: use tempfail for a 4xx "
		    "reply",
		    rc->basic);
		nerr++;
	} else if (v == VERDICT_TEMPFAIL && cls == 5) {
		add(out, FINDING_ERROR, NULL,
		    "a tempfail rule needs a transient failure reply code "
		    "(4xx), but %d is a permanent failure: use reject for a "
		    "5xx reply",
		    rc->basic);
		nerr++;
	}
	/* A suggestion only where the verdict and the basic code agree. */
	suggest = suggest && nerr == 0;

	if (rc->enh_class == 0) {
		if (cls == 4 || cls == 5) {
			if (suggest &&
			    suggest_enhanced(rc, cls, v, st, held, &sug))
				sp = &sug;
			add(out, FINDING_ERROR, sp,
			    "reply code %d has no enhanced status code: give "
			    "one%s",
			    rc->basic, eg(sp, ebuf, sizeof(ebuf)));
			nerr++;
		}
	} else if (rc->enh_class != cls) {
		if (cls == 3) {
			add(out, FINDING_ERROR, NULL,
			    "enhanced code %d.%d.%d has class %d but the reply "
			    "code %d is %s, which takes no enhanced code",
			    rc->enh_class, rc->enh_subject, rc->enh_detail,
			    rc->enh_class, rc->basic, class_phrase(cls));
		} else {
			struct reply_code same = {
			    rc->basic, cls, rc->enh_subject, rc->enh_detail};
			if (suggest && (cls == 4 || cls == 5) &&
			    (try_enhanced(&sug, rc->basic, cls, rc->enh_subject,
					  rc->enh_detail, v, st, held) ||
			     suggest_basic(&same, cls, v, st, held, &sug) ||
			     suggest_enhanced(&same, cls, v, st, held, &sug)))
				sp = &sug;
			add(out, FINDING_ERROR, sp,
			    "enhanced code %d.%d.%d has class %d but the reply "
			    "code %d is %s%s",
			    rc->enh_class, rc->enh_subject, rc->enh_detail,
			    rc->enh_class, rc->basic, class_phrase(cls),
			    sp != NULL ? eg(sp, ebuf, sizeof(ebuf))
				       : ": the classes must match");
		}
		nerr++;
	} else if (cls == 4 || cls == 5) {
		check_pairing(rc, v, st, held, out, suggest);
	}

	if (replies && (cls == 4 || cls == 5))
		check_command(rc, v, st, held, out, suggest);
	return nerr;
}

int codes_check(const struct reply_code *rc, enum verdict v, enum stage st,
		bool held, struct findings *out)
{
	return check(rc, v, st, held, out, true);
}
