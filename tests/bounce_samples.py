"""Returned mail written by the team from the RFCs' examples (RFC 3464, RFC 5965, RFC 3834) and the
shapes of common non-standard bounces: no third-party mail is stored in the repository."""

from __future__ import annotations


def dsn(to: str, recipient: str, *, action: str = "failed", status: str = "5.1.1",
        diagnostic: str = "smtp; 550 5.1.1 <{r}>... User unknown", reporting: str = "mx.remote.example.net",
        returned_headers: str = "") -> bytes:
    diagnostic = diagnostic.format(r=recipient)
    return f"""\
From: Mail Delivery Subsystem <MAILER-DAEMON@{reporting}>
To: <{to}>
Subject: Returned mail: User unknown
Date: Thu, 7 Jul 1994 17:16:05 -0400
Message-Id: <199407072116.RAA14128@{reporting}>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="RAA14128.773615765/{reporting}"

--RAA14128.773615765/{reporting}
Content-Type: text/plain

   ----- The following addresses had delivery problems -----
<{recipient}>  (unrecoverable error)

--RAA14128.773615765/{reporting}
Content-Type: message/delivery-status

Reporting-MTA: dns; {reporting}
Arrival-Date: Thu, 7 Jul 1994 17:15:49 -0400

Original-Recipient: rfc822;{recipient}
Final-Recipient: RFC822; {recipient}
Action: {action}
Status: {status}
Remote-MTA: DNS; mail.remote.example.net
Diagnostic-Code: {diagnostic}
Last-Attempt-Date: Thu, 7 Jul 1994 17:15:49 -0400

--RAA14128.773615765/{reporting}
Content-Type: text/rfc822-headers

{returned_headers or "Subject: a digest"}

--RAA14128.773615765/{reporting}--
""".replace("\n", "\r\n").encode()


def arf(to: str, *, feedback_type: str = "abuse", original_rcpt: str = "", returned_headers: str = "",
        reporter: str = "fbl.mailbox.test") -> bytes:
    return f"""\
From: <abusedesk@{reporter}>
Date: Thu, 8 Mar 2005 17:40:36 EDT
Subject: FW: Earn money
To: <{to}>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
     boundary="part1_13d.2e68ed54_boundary"

--part1_13d.2e68ed54_boundary
Content-Type: text/plain; charset="US-ASCII"
Content-Transfer-Encoding: 7bit

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 8 Mar 2005 14:00:00 EDT.

--part1_13d.2e68ed54_boundary
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <somespammer@example.net>
Original-Rcpt-To: <{original_rcpt or 'user@mailbox.test'}>
Received-Date: Thu, 8 Mar 2005 14:00:00 EDT
Source-IP: 192.0.2.1
Reported-Domain: gazette.example.org

--part1_13d.2e68ed54_boundary
Content-Type: message/rfc822
Content-Disposition: inline

From: <daily@gazette.example.org>
Received: from mailserver.example.net (mailserver.example.net [192.0.2.1])
    by example.com with ESMTP id M63d4137594e46; Thu, 08 Mar 2005 14:00:00 -0400
{returned_headers or "X-Nothing: here"}
To: <{original_rcpt or 'user@mailbox.test'}>
Subject: Gazette Daily
Date: Thu, 8 Mar 2005 14:00:00 EDT

The digest.

--part1_13d.2e68ed54_boundary--
""".replace("\n", "\r\n").encode()


def qmail_bounce(to: str, recipient: str) -> bytes:
    """The plain-text shape qmail gives a failure (no DSN part)."""
    return f"""\
From: MAILER-DAEMON@mail.remote.example.net
To: {to}
Subject: failure notice

Hi. This is the qmail-send program at mail.remote.example.net.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{recipient}>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Below this line is a copy of the message.

Subject: Gazette Daily
""".replace("\n", "\r\n").encode()


def vacation(to: str, sender: str) -> bytes:
    return f"""\
From: {sender}
To: {to}
Subject: Out of office: Gazette Daily
Auto-Submitted: auto-replied
Precedence: auto_reply

I am away until Monday and will read your message when I return.
""".replace("\n", "\r\n").encode()
