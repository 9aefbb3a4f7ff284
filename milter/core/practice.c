/*
 * practice.c - the reply pairs that widely deployed MTAs and the large
 * mailbox providers send, each with where it comes from, and the enhanced
 * codes providers use without IANA ever registering them.
 *
 * Pure data and lookups: it must never include libmilter or libconfuse,
 * log, exit or allocate. Read from the sources, not written from memory:
 *
 *   Postfix   3.7.22 and 3.8.20 (the reply strings are the same in both),
 *             paths under postfix/src/. Where a code is a parameter, the
 *             row gives its default (and the 5xx variant as its own row
 *             when postmasters commonly set it): smtpd_check_reject()
 *             copies the basic code's class into the enhanced code, so
 *             "450 4.7.25" becomes "550 5.7.25" with the 550 setting.
 *   Sendmail  8.17.2, paths under sendmail/ and cf/. Milter replies:
 *             srvrsmtp.c's MILTER_REPLY and smtp_data().
 *   Exim      4.99 sends no enhanced code unless an ACL message starts
 *             with one (smtp_message_code()): it has no rows here.
 *   Providers their published lists of SMTP errors, read from the pages
 *             (Google Workspace "Gmail SMTP errors and codes", Microsoft's
 *             Exchange Online NDR pages, Yahoo's help pages). They do not
 *             say which command carries each reply: the rows give the one
 *             the meaning answers (an unknown mailbox at RCPT, content at
 *             the end of DATA).
 *
 * Replies to commands a milter never sees (AUTH, STARTTLS, ETRN, XCLIENT)
 * are left out. tests/unit/check_codes.c keeps every row registered with
 * IANA, its class equal to its basic code's, and loading clean.
 */
#include <stddef.h>

#include "core/codes.h"

#define P_CONN	CMDBIT(CMD_CONNECT)
#define P_HELO	CMDBIT(CMD_HELO)
#define P_MAIL	CMDBIT(CMD_MAIL)
#define P_RCPT	CMDBIT(CMD_RCPT)
#define P_DATA	CMDBIT(CMD_DATA)
#define P_DEND	CMDBIT(CMD_DATA_END)
#define P_TRANS (P_MAIL | P_RCPT | P_DATA | P_DEND)
#define P_ANY	(P_HELO | P_TRANS)
#define P_CMDS	(P_HELO | P_MAIL | P_RCPT | P_DATA) /* commands, not the dot */

#define PF "Postfix"
#define SM "Sendmail"
#define GM "Gmail"
#define MS "Microsoft 365"
#define YH "Yahoo Mail"

#define GOOGLE_PAGE                                                            \
	"Google Workspace Admin Help, Gmail SMTP errors and codes "            \
	"(support.google.com/a/answer/3726730)"
#define MS_PAGE(x)    "Microsoft Learn, Exchange Online NDR: fix error code " x
#define YAHOO_PAGE(x) "Yahoo Help, " x

/* clang-format off */
static const struct practice_pair practice_table[] = {
	/* --- Postfix: smtpd restrictions (smtpd_delay_reject = yes gives
	 *     client, HELO and sender verdicts at RCPT) --------------------- */
	{454, 4, 7, 1, P_RCPT, PF, "Relay access denied",
	 "smtpd/smtpd_check.c, defer_unauth_destination (the default "
	 "smtpd_relay_restrictions)"},
	{554, 5, 7, 1, P_RCPT, PF, "Relay access denied",
	 "smtpd/smtpd_check.c, reject_unauth_destination "
	 "(relay_domains_reject_code = 554)"},
	{554, 5, 7, 1, P_MAIL | P_RCPT | P_DATA, PF, "Access denied",
	 "smtpd/smtpd_check.c, check_table_result(): access table REJECT "
	 "(access_map_reject_code = 554)"},
	{554, 5, 7, 1, P_RCPT, PF,
	 "Service unavailable; Client host [IP] blocked using ZONE",
	 "smtpd/smtpd_check.c, rbl_reject_reply(): reject_rbl_client "
	 "(maps_rbl_reject_code = 554)"},
	{450, 4, 7, 1, P_MAIL | P_RCPT | P_DATA, PF, "Access denied",
	 "smtpd/smtpd_check.c, check_table_result(): access table DEFER "
	 "(access_map_defer_code = 450)"},
	{450, 4, 7, 1, P_RCPT, PF, "cannot find your reverse hostname",
	 "smtpd/smtpd_check.c, reject_unknown_reverse_name() "
	 "(unknown_client_reject_code = 450)"},
	{450, 4, 7, 1, P_RCPT, PF, "Helo command rejected: Host not found",
	 "smtpd/smtpd_check.c, reject_unknown_hostname() "
	 "(unknown_hostname_reject_code = 450)"},
	{450, 4, 7, 1, P_MAIL | P_RCPT, PF, "Error: too much mail from IP",
	 "smtpd/smtpd.c, mail_cmd() and rcpt_cmd(): anvil rate limits"},
	{550, 5, 7, 1, P_RCPT, PF, "Helo command rejected: Host not found",
	 "smtpd/smtpd_check.c, reject_unknown_hostname() with "
	 "unknown_hostname_reject_code = 550"},
	{450, 4, 7, 25, P_MAIL | P_RCPT, PF, "cannot find your hostname",
	 "smtpd/smtpd_check.c, reject_unknown_client() "
	 "(unknown_client_reject_code = 450)"},
	{550, 5, 7, 25, P_RCPT, PF, "cannot find your hostname",
	 "smtpd/smtpd_check.c, reject_unknown_client() with "
	 "unknown_client_reject_code = 550"},
	{450, 4, 1, 8, P_MAIL | P_RCPT, PF,
	 "Sender address rejected: Domain not found",
	 "smtpd/smtpd_check.c, reject_unknown_mailhost() "
	 "(unknown_address_reject_code = 450)"},
	{550, 5, 1, 8, P_MAIL | P_RCPT, PF,
	 "Sender address rejected: Domain not found",
	 "smtpd/smtpd_check.c, reject_unknown_mailhost() with "
	 "unknown_address_reject_code = 550"},
	{450, 4, 1, 2, P_RCPT, PF,
	 "Recipient address rejected: Domain not found",
	 "smtpd/smtpd_check.c, reject_unknown_mailhost() "
	 "(unknown_address_reject_code = 450)"},
	{550, 5, 1, 2, P_RCPT, PF,
	 "Recipient address rejected: Domain not found",
	 "smtpd/smtpd_check.c, reject_unknown_mailhost() with "
	 "unknown_address_reject_code = 550"},
	{550, 5, 7, 27, P_MAIL | P_RCPT, PF,
	 "Domain does not accept mail (nullMX)",
	 "smtpd/smtpd_check.c, reject_unknown_mailhost(): sender"},
	{556, 5, 1, 10, P_RCPT, PF, "Domain does not accept mail (nullMX)",
	 "smtpd/smtpd_check.c, reject_unknown_mailhost(): recipient"},
	{450, 4, 1, 1, P_RCPT, PF,
	 "Recipient address rejected: unverified address",
	 "smtpd/smtpd_check.c, reject_unverified_address() "
	 "(unverified_recipient_reject_code = 450)"},
	{450, 4, 1, 7, P_MAIL | P_RCPT, PF,
	 "Sender address rejected: unverified address",
	 "smtpd/smtpd_check.c, reject_unverified_address() and "
	 "smtpd_dsn_fix.h (unverified_sender_reject_code = 450)"},
	{550, 5, 1, 1, P_RCPT, PF, "User unknown in local recipient table",
	 "smtpd/smtpd_check.c, check_rcpt_maps() "
	 "(unknown_local_recipient_reject_code = 550)"},
	{550, 5, 1, 0, P_MAIL | P_RCPT, PF,
	 "Sender address rejected: User unknown",
	 "smtpd/smtpd_check.c, check_rcpt_maps() with "
	 "smtpd_reject_unlisted_sender = yes"},
	{550, 5, 1, 6, P_RCPT, PF, "User has moved to ADDRESS",
	 "trivial-rewrite/resolve.c: relocated_maps"},
	{501, 5, 5, 2, P_HELO | P_RCPT, PF, "Helo command rejected: Invalid name",
	 "smtpd/smtpd_check.c, reject_invalid_hostname() "
	 "(invalid_hostname_reject_code = 501)"},
	{504, 5, 5, 2, P_HELO | P_MAIL | P_RCPT, PF,
	 "need fully-qualified hostname (or address)",
	 "smtpd/smtpd_check.c, reject_non_fqdn_hostname() and "
	 "reject_non_fqdn_address() (non_fqdn_reject_code = 504)"},
	{450, 4, 3, 2, P_MAIL | P_RCPT | P_DATA, PF, "Try again later",
	 "smtpd/smtpd_check.c, generic_checks(): defer (defer_code = 450)"},
	{450, 4, 7, 0, P_MAIL | P_RCPT | P_DATA, PF, "defer_if_permit requested",
	 "smtpd/smtpd_check.c, generic_checks(): defer_if_permit"},
	{450, 4, 4, 4, P_RCPT, PF,
	 "Unable to look up host as mail exchanger",
	 "smtpd/smtpd_check.c, permit_mx_backup()"},
	{503, 5, 5, 0, P_MAIL | P_RCPT | P_DATA, PF,
	 "Improper use of SMTP command pipelining",
	 "smtpd/smtpd_check.c, reject_unauth_pipelining()"},
	{550, 5, 5, 3, P_RCPT | P_DATA, PF, "Multi-recipient bounce",
	 "smtpd/smtpd_check.c, generic_checks(): "
	 "reject_multi_recipient_bounce"},
	{553, 5, 7, 1, P_MAIL | P_RCPT, PF,
	 "Sender address rejected: not owned by user",
	 "smtpd/smtpd_check.c, reject_auth_sender_login_mismatch()"},
	{451, 4, 3, 0, P_TRANS, PF, "Temporary lookup failure",
	 "smtpd/smtpd_check.c, reject_dict_retry()"},
	{451, 4, 3, 5, P_TRANS, PF, "Server configuration error",
	 "smtpd/smtpd_check.c, reject_server_error(); also the default "
	 "check_policy_service action"},
	{552, 5, 3, 4, P_MAIL, PF, "Message size exceeds fixed limit",
	 "smtpd/smtpd_check.c, smtpd_check_size() (message_size_limit)"},
	{452, 4, 3, 1, P_MAIL, PF, "Insufficient system storage",
	 "smtpd/smtpd_check.c, smtpd_check_queue()"},
	{452, 4, 5, 3, P_RCPT, PF, "Error: too many recipients",
	 "smtpd/smtpd.c, rcpt_cmd() (smtpd_recipient_limit)"},
	{421, 4, 7, 0, P_CONN | P_ANY, PF, "Error: too many connections",
	 "smtpd/smtpd.c, smtpd_proto(): anvil connection limit; also "
	 "\"Error: too many errors\""},
	{421, 4, 4, 2, P_ANY, PF, "Error: timeout exceeded",
	 "smtpd/smtpd.c, smtpd_proto() (smtpd_timeout)"},
	{421, 4, 3, 0, P_ANY, PF, "Server local data error",
	 "smtpd/smtpd.c, smtpd_proto()"},
	{503, 5, 5, 1, P_MAIL | P_RCPT | P_DATA, PF, "Error: need MAIL command",
	 "smtpd/smtpd.c, mail_cmd(), rcpt_cmd(), data_cmd()"},
	{554, 5, 5, 1, P_DATA, PF, "Error: no valid recipients",
	 "smtpd/smtpd.c, data_cmd()"},
	{501, 5, 5, 4, P_MAIL | P_RCPT, PF, "Syntax: MAIL FROM:<address>",
	 "smtpd/smtpd.c, mail_cmd() and rcpt_cmd()"},
	{501, 5, 1, 7, P_MAIL, PF, "Bad sender address syntax",
	 "smtpd/smtpd.c, mail_cmd()"},
	{501, 5, 1, 3, P_RCPT, PF, "Bad recipient address syntax",
	 "smtpd/smtpd.c, rcpt_cmd()"},
	{555, 5, 5, 4, P_MAIL | P_RCPT, PF, "Unsupported option",
	 "smtpd/smtpd.c, mail_cmd() and rcpt_cmd()"},
	{500, 5, 5, 2, P_CMDS, PF, "Error: command not recognized",
	 "smtpd/smtpd.c, smtpd_proto()"},
	{530, 5, 7, 0, P_MAIL | P_RCPT | P_DATA, PF,
	 "Must issue a STARTTLS command first",
	 "smtpd/smtpd.c, smtpd_proto() (smtpd_tls_security_level = "
	 "encrypt)"},
	{550, 5, 5, 2, P_DEND, PF, "Error: bare <LF> received",
	 "smtpd/smtpd.c (smtpd_forbid_bare_newline)"},
	/* --- Postfix: end of DATA (cleanup) and milters ------------------- */
	{552, 5, 3, 4, P_DEND, PF, "Error: message file too big",
	 "global/cleanup_strerror.c: CLEANUP_STAT_SIZE"},
	{554, 5, 4, 0, P_DEND, PF, "Error: too many hops",
	 "cleanup/cleanup_message.c and global/cleanup_strerror.c: "
	 "CLEANUP_STAT_HOPS"},
	{550, 5, 7, 1, P_DEND, PF, "message content rejected",
	 "cleanup/cleanup_message.c, cleanup_act(): header_checks REJECT"},
	{451, 4, 7, 1, P_TRANS, PF, "Service unavailable - try again later",
	 "milter/milter8.c: a milter's tempfail, and milter_default_action "
	 "= tempfail (up to 3.7.19 and 3.8.14)"},
	{451, 4, 3, 0, P_DEND, PF, "Error: queue file write error",
	 "global/cleanup_strerror.c"},
	{550, 5, 7, 1, P_TRANS, PF, "Command rejected",
	 "milter/milter8.c, milter8_event(): a milter's reject"},
	{421, 4, 7, 1, P_ANY, PF, "Service unavailable - try again later",
	 "milter/milter8.c, milter8_comm_error(): milter_default_action = "
	 "shutdown (the default since 3.7.20 and 3.8.15)"},
	{421, 4, 3, 5, P_ANY, PF, "Server configuration problem",
	 "milter/milter8.c, milter8_conf_error() (a malformed milter "
	 "reply)"},
	{550, 5, 5, 0, P_ANY, PF, "Service unavailable",
	 "milter/milter8.c, milter8_comm_error(): milter_default_action = "
	 "reject"},
	/* --- Postfix: postscreen ----------------------------------------- */
	{421, 4, 3, 2, P_CONN, PF, "All server ports are busy",
	 "postscreen/postscreen.c"},
	{450, 4, 3, 2, P_RCPT, PF, "Service currently unavailable",
	 "postscreen/postscreen_smtpd.c, psc_rcpt_cmd()"},
	{550, 5, 7, 1, P_RCPT, PF,
	 "Service unavailable; client [IP] blocked using SITE",
	 "postscreen/postscreen_early.c (postscreen_dnsbl_action = "
	 "enforce)"},
	{521, 5, 7, 1, P_CONN, PF,
	 "Service unavailable; client [IP] blocked using SITE",
	 "postscreen/postscreen_early.c (postscreen_dnsbl_action = drop)"},
	{550, 5, 3, 2, P_RCPT, PF, "Service currently unavailable",
	 "postscreen/postscreen.c (postscreen_denylist_action = enforce)"},
	{521, 5, 3, 2, P_CONN, PF, "Service currently unavailable",
	 "postscreen/postscreen.c (postscreen_denylist_action = drop)"},
	{550, 5, 5, 1, P_RCPT, PF, "Protocol error",
	 "postscreen/postscreen_early.c and postscreen_smtpd.c "
	 "(pregreet and pipelining tests, action enforce)"},
	{521, 5, 5, 1, P_CONN, PF, "Protocol error",
	 "postscreen/postscreen_early.c (postscreen_greet_action = drop)"},

	/* --- Sendmail ---------------------------------------------------- */
	{451, 4, 3, 2, P_TRANS, SM, "Please try again later",
	 "sendmail/srvrsmtp.c, MSG_TEMPFAIL: a milter's tempfail, and a "
	 "milter that fails with F=T"},
	{550, 5, 7, 1, P_MAIL | P_RCPT | P_DATA, SM, "Command rejected",
	 "sendmail/srvrsmtp.c, MILTER_REPLY and smtp_data(): a milter's "
	 "reject"},
	{554, 5, 7, 1, P_DEND, SM, "Command rejected",
	 "sendmail/srvrsmtp.c, smtp_data(): a milter's reject at the end "
	 "of the message"},
	{550, 5, 0, 0, P_TRANS, SM, "Command rejected",
	 "sendmail/srvrsmtp.c, smtp(): every command after a milter "
	 "rejected the connection or HELO"},
	{421, 4, 7, 0, P_CONN | P_HELO | P_DATA | P_DEND, SM,
	 "closing connection",
	 "sendmail/srvrsmtp.c: a milter's shutdown"},
	{421, 4, 3, 0, P_MAIL | P_RCPT, SM, "closing connection",
	 "sendmail/srvrsmtp.c, MILTER_REPLY: a milter's shutdown"},
	{421, 4, 4, 1, P_ANY, SM, "Lost input channel",
	 "sendmail/srvrsmtp.c, smtp()"},
	{421, 4, 3, 2, P_CONN, SM, "Too many open connections.",
	 "cf/feature/conncontrol.m4 and ratecontrol.m4 (terminate)"},
	{452, 4, 3, 2, P_MAIL | P_RCPT, SM, "Connection rate limit exceeded.",
	 "cf/feature/ratecontrol.m4 and cf/m4/proto.m4"},
	{450, 4, 3, 0, P_TRANS, SM, "Please try again later.",
	 "sendmail/srvrsmtp.c, smtp(): srv_features tempfail"},
	{503, 5, 5, 0, P_MAIL, SM, "Sender already specified",
	 "sendmail/srvrsmtp.c, smtp()"},
	{552, 5, 2, 3, P_MAIL | P_DEND, SM,
	 "Message size exceeds fixed maximum message size",
	 "sendmail/srvrsmtp.c and collect.c (MaxMessageSize)"},
	{452, 4, 4, 5, P_MAIL, SM, "Insufficient disk space; try again later",
	 "sendmail/srvrsmtp.c, smtp()"},
	{553, 5, 1, 8, P_MAIL, SM, "Domain of sender address does not exist",
	 "cf/m4/proto.m4, Basic_check_mail"},
	{451, 4, 1, 8, P_MAIL, SM, "Domain of sender address does not resolve",
	 "cf/m4/proto.m4, Basic_check_mail"},
	{553, 5, 5, 4, P_MAIL, SM, "Domain name required for sender address",
	 "cf/m4/proto.m4, Basic_check_mail"},
	{553, 5, 1, 3, P_MAIL | P_RCPT, SM, "User address required",
	 "cf/m4/proto.m4, Parse0"},
	{553, 5, 1, 2, P_MAIL | P_RCPT, SM, "Invalid host name",
	 "cf/m4/proto.m4, Parse0"},
	{452, 4, 5, 3, P_RCPT, SM, "Too many recipients",
	 "sendmail/srvrsmtp.c, smtp() (MaxRecipientsPerMessage)"},
	{550, 5, 7, 1, P_RCPT, SM, "Relaying denied",
	 "cf/m4/proto.m4, Basic_check_rcpt (confRELAY_MSG)"},
	{550, 5, 7, 1, P_TRANS, SM, "Rejected: IP listed at ZONE",
	 "cf/feature/dnsbl.m4"},
	{451, 4, 4, 3, P_TRANS, SM, "Temporary lookup failure of IP at ZONE",
	 "cf/feature/dnsbl.m4 (with the t flag)"},
	{550, 5, 2, 1, P_RCPT, SM, "Mailbox disabled for this recipient",
	 "cf/m4/proto.m4, Rcpt_ok (confRCPTREJ_MSG)"},
	{550, 5, 1, 1, P_RCPT, SM, "User unknown",
	 "sendmail/recipient.c, recipient()"},
	{450, 4, 4, 0, P_RCPT, SM,
	 "Relaying temporarily denied. Cannot resolve PTR record",
	 "cf/m4/proto.m4, Relay_ok"},
	{552, 5, 6, 0, P_DEND, SM, "Headers too large",
	 "sendmail/collect.c, collect()"},
	{554, 5, 6, 1, P_DEND, SM, "Eight bit data not allowed",
	 "sendmail/collect.c, collect()"},
	{500, 5, 5, 1, P_CMDS, SM, "Command unrecognized",
	 "sendmail/srvrsmtp.c, smtp()"},
	{501, 5, 0, 0, P_HELO, SM, "Invalid domain name",
	 "sendmail/srvrsmtp.c, smtp() (usrerr() adds 5.0.0)"},
	{503, 5, 0, 0, P_MAIL | P_RCPT | P_DATA, SM, "Need MAIL before RCPT",
	 "sendmail/srvrsmtp.c, smtp() and smtp_data()"},
	{530, 5, 7, 0, P_MAIL, SM, "Authentication required",
	 "sendmail/srvrsmtp.c, smtp()"},

	/* --- the large mailbox providers' published lists ---------------- */
	{421, 4, 7, 0, P_CONN | P_TRANS, GM,
	 "IP not in whitelist for RCPT domain, closing connection",
	 GOOGLE_PAGE},
	{421, 4, 7, 28, P_TRANS, GM,
	 "unusual rate of unsolicited mail originating from your IP",
	 GOOGLE_PAGE},
	{421, 4, 4, 5, P_CONN | P_TRANS, GM, "Server busy, try again later",
	 GOOGLE_PAGE},
	{450, 4, 2, 1, P_RCPT, GM,
	 "The user you are trying to contact is receiving mail too quickly",
	 GOOGLE_PAGE},
	{451, 4, 7, 23, P_DEND, GM,
	 "sending IP has no PTR record: temporarily rate limited",
	 GOOGLE_PAGE},
	{451, 4, 7, 26, P_DEND, GM,
	 "DMARC policy, temporary DNS failure prevents authentication",
	 GOOGLE_PAGE},
	{452, 4, 2, 2, P_RCPT, GM,
	 "The recipient's inbox is out of storage space", GOOGLE_PAGE},
	{452, 4, 5, 3, P_RCPT, GM, "Your message has too many recipients",
	 GOOGLE_PAGE},
	{550, 5, 1, 1, P_RCPT, GM,
	 "The email account that you tried to reach does not exist",
	 GOOGLE_PAGE},
	{550, 5, 2, 1, P_RCPT, GM,
	 "The email account that you tried to reach is inactive",
	 GOOGLE_PAGE},
	{550, 5, 4, 5, P_MAIL | P_RCPT, GM, "Daily user sending limit exceeded",
	 GOOGLE_PAGE},
	{550, 5, 7, 1, P_DEND, GM, "message is likely unsolicited mail",
	 GOOGLE_PAGE},
	{550, 5, 7, 25, P_DEND, GM,
	 "The IP address sending this message does not have a PTR record",
	 GOOGLE_PAGE},
	{550, 5, 7, 26, P_DEND, GM,
	 "Unauthenticated email is not accepted due to domain's DMARC "
	 "policy",
	 GOOGLE_PAGE},
	{552, 5, 2, 2, P_RCPT | P_DEND, GM,
	 "The recipient's inbox is out of storage space and inactive",
	 GOOGLE_PAGE},
	{552, 5, 3, 4, P_DEND, GM, "Your message exceeded Google's size limits",
	 GOOGLE_PAGE},
	{552, 5, 7, 0, P_DEND, GM,
	 "message content presents a potential security issue",
	 GOOGLE_PAGE},
	{553, 5, 1, 2, P_RCPT, GM,
	 "We weren't able to find the recipient domain", GOOGLE_PAGE},
	{553, 5, 1, 3, P_RCPT, GM,
	 "The recipient address is not a valid RFC 5321 address",
	 GOOGLE_PAGE},
	{553, 5, 1, 7, P_MAIL, GM,
	 "The sender address is not a valid RFC 5321 address", GOOGLE_PAGE},
	{554, 5, 4, 6, P_DEND, GM, "Message exceeded 50 hops",
	 GOOGLE_PAGE},
	{554, 5, 6, 0, P_DEND, GM, "Mail message is malformed. Not accepted",
	 GOOGLE_PAGE},
	{550, 5, 7, 23, P_DEND, MS,
	 "Message rejected because of Sender Policy Framework violation",
	 MS_PAGE("5.7.23")},
	{550, 5, 4, 1, P_RCPT, MS,
	 "Recipient address rejected: Access denied",
	 MS_PAGE("550 5.4.1")},
	{550, 5, 1, 10, P_RCPT, MS,
	 "Recipient not found by SMTP address lookup",
	 MS_PAGE("550 5.1.10")},
	{550, 5, 1, 8, P_MAIL, MS, "Access denied, bad outbound sender",
	 MS_PAGE("5.1.8")},
	{421, 4, 7, 0, P_CONN | P_TRANS, YH,
	 "[TS01] Messages from IP temporarily deferred due to user "
	 "complaints",
	 YAHOO_PAGE("SLN3434")},
	{554, 5, 7, 9, P_DEND, YH,
	 "Message not accepted for policy reasons", YAHOO_PAGE("SLN7253")},
};

/*
 * Providers' own enhanced codes, registered with nobody: details lo..hi
 * of class.subject (class 0: both 4 and 5).
 */
static const struct private_code private_table[] = {
	{4, 7, 500, 699, MS, "IP throttling, try again later",
	 MS_PAGE("451 4.7.500-699 (ASxxx)")},
	{5, 7, 501, 513, MS, "spam abuse, banned sender or recipient",
	 MS_PAGE("5.7.501-5.7.513")},
	{5, 7, 515, 515, MS, "sending domain does not meet the required "
			     "authentication level",
	 "Outlook.com postmaster troubleshooting"},
	{5, 7, 606, 649, MS, "banned sending IP", MS_PAGE("5.7.606-649")},
	{5, 7, 700, 750, MS, "tenant or unregistered domain blocked",
	 MS_PAGE("5.7.700 through 5.7.750")},
	{5, 7, 57, 57, MS, "client not authenticated to send anonymous mail",
	 MS_PAGE("5.7.57")},
	{5, 7, 64, 64, MS, "TenantAttribution; Relay Access Denied",
	 MS_PAGE("5.7.64")},
	{5, 7, 124, 136, MS, "sender not allowed or not authenticated",
	 MS_PAGE("5.7.124, 5.7.133 to 5.7.136")},
	{5, 0, 350, 350, MS, "generic failure from the recipient's "
			     "organization",
	 MS_PAGE("550 5.0.350")},
	{5, 6, 11, 11, MS, "invalid characters (bare line feeds)",
	 MS_PAGE("550 5.6.11")},
	{0, 7, 32, 32, GM, "From: not aligned with SPF or DKIM", GOOGLE_PAGE},
	{0, 7, 40, 40, GM, "no DMARC record for the sending domain",
	 GOOGLE_PAGE},
};
/* clang-format on */

#define NPRACTICE (sizeof(practice_table) / sizeof(practice_table[0]))
#define NPRIVATE  (sizeof(private_table) / sizeof(private_table[0]))

size_t codes_practice_count(void)
{
	return NPRACTICE;
}

const struct practice_pair *codes_practice_at(size_t i)
{
	return i < NPRACTICE ? &practice_table[i] : NULL;
}

const struct practice_pair *codes_practice_next(const struct reply_code *rc,
						size_t *from)
{
	for (size_t i = *from; i < NPRACTICE; i++) {
		const struct practice_pair *p = &practice_table[i];
		if (p->basic == rc->basic && p->enh_class == rc->enh_class &&
		    p->enh_subject == rc->enh_subject &&
		    p->enh_detail == rc->enh_detail) {
			*from = i + 1;
			return p;
		}
	}
	*from = NPRACTICE;
	return NULL;
}

size_t codes_private_count(void)
{
	return NPRIVATE;
}

const struct private_code *codes_private_at(size_t i)
{
	return i < NPRIVATE ? &private_table[i] : NULL;
}

const struct private_code *codes_private(const struct reply_code *rc)
{
	for (size_t i = 0; i < NPRIVATE; i++) {
		const struct private_code *c = &private_table[i];
		if ((c->enh_class == 0 || c->enh_class == rc->enh_class) &&
		    c->enh_subject == rc->enh_subject &&
		    rc->enh_detail >= c->detail_lo &&
		    rc->enh_detail <= c->detail_hi)
			return c;
	}
	return NULL;
}
