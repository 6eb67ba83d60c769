"""Bounces in the layouts of mail servers we have no dev mail from, written by the team from the layouts the
Sisimai project documents for each one (its start markers and where it puts the failed address and the
server's words), not copied from any sample. {r} is the failed reader, {to} our return path."""

from __future__ import annotations

RETURNED = "From: Gazette Daily <daily@gazette.example.org>\nTo: {r}\nSubject: Gazette Daily\n\nThe digest.\n"

LAYOUTS = {
    "dragonfly": ("MAILER-DAEMON <MAILER-DAEMON@df.gazette.example.org>", "Mail delivery failed", """\
This is the DragonFly Mail Agent v0.13 at df.gazette.example.org.

There was an error delivering your mail to <{r}>.

mx.reader.example.net [192.0.2.20] did not like our RCPT TO:
{reply}

Original message follows.

""" + RETURNED),
    "notes": ("Postmaster <postmaster@notes.reader.example.net>", "Undeliverable message", """\
------- Failure Reasons  --------

{reply}
{r}

------- Returned Message --------
""" + RETURNED),
    "opensmtpd": ("Mailer Daemon <MAILER-DAEMON@smtpd.gazette.example.org>", "Delivery status notification: error",
                  """\
    Hi!

    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.

    An error has occurred while attempting to deliver a message for
    the following list of recipients:

{r}: {reply}

    Below is a copy of the original message:

""" + RETURNED),
    "opensmtpd-delay": ("Mailer Daemon <MAILER-DAEMON@smtpd.gazette.example.org>",
                        "Delivery status notification: warning", """\
    Hi!

    This is the MAILER-DAEMON, please DO NOT REPLY to this e-mail.

    A message is delayed for more than 4 hours for the following
    list of recipients:

{r}: {reply}

    Please note that this is only a temporary failure report.
    The message is kept in the queue for up to 4 days.
    You DO NOT NEED to re-send the message to these recipients.

    Below is a copy of the original message:

""" + RETURNED),
    "v5sendmail": ("Mail Delivery Subsystem <MAILER-DAEMON@relay.gazette.example.org>", "Returned mail: User unknown",
                   """\
   ----- Transcript of session follows -----
While talking to mx.reader.example.net:
>>> RCPT To:<{r}>
<<< {reply}
550 <{r}>... User unknown

   ----- Unsent message follows -----
""" + RETURNED),
    "qmail": ("MAILER-DAEMON@mail.gazette.example.org", "failure notice", """\
Hi. This is the qmail-send program at mail.gazette.example.org.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<{r}>:
{reply}

--- Below this line is a copy of the message.

""" + RETURNED),
    "exim": ("Mail Delivery System <Mailer-Daemon@mx.gazette.example.org>", "Mail delivery failed: returning message "
             "to sender", """\
This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {r}
    {reply}

------ This is a copy of the message, including all the headers. ------

""" + RETURNED),
    "postfix-text": ("MAILER-DAEMON@relay.gazette.example.org (Mail Delivery System)",
                     "Undelivered Mail Returned to Sender", """\
This is the mail system at host relay.gazette.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

                   The mail system

<{r}>: host mx.reader.example.net[192.0.2.20] said: {reply}

""" + RETURNED),
    "sendmail-text": ("Mail Delivery Subsystem <MAILER-DAEMON@relay.gazette.example.org>",
                      "Returned mail: see transcript for details", """\
The original message was received at Mon, 2 Mar 2026 10:00:00 +0000
from localhost [127.0.0.1]

   ----- The following addresses had permanent fatal errors -----
<{r}>
    (reason: {reply})

   ----- Transcript of session follows -----
... while talking to mx.reader.example.net.:
>>> DATA
<<< {reply}

   ----- Original message follows -----
""" + RETURNED),
    "exchange2003": ("System Administrator <postmaster@exchange.reader.example.net>", "Undeliverable: Gazette Daily",
                     """\
Your message

  To:      {r}
  Subject: Gazette Daily
  Sent:    Mon, 2 Mar 2026 10:00:00 +0000

did not reach the following recipient(s):

{r} on Mon, 2 Mar 2026 10:00:05 +0000
    The recipient name is not recognized
    The MTS-ID of the original message is: c=us;a= ;p=reader;l=EXCHANGE0000
    {reply}
"""),
    "google": ("Mail Delivery Subsystem <mailer-daemon@googlemail.com>", "Delivery Status Notification (Failure)", """\
This is an automatically generated Delivery Status Notification

Delivery to the following recipient failed permanently:

     {r}

Technical details of permanent failure:
{reply}

   ----- Original message -----

""" + RETURNED),
    "biglobe": ("postmaster@biglobe.ne.jp", "Returned mail: Delivery failed", """\
   ----- The following addresses had delivery problems -----
{r}

   ----- Non-delivered information -----
{reply}

"""),
    "kddi": ("no-reply@mail.dion.ne.jp", "Mail delivery failed", """\
Your mail sent on: Mon, 02 Mar 2026 10:00:00 +0900
    Could not be delivered to: <{r}>
    {reply}

"""),
    "mailfoundry": ("MAILER-DAEMON@mf.reader.example.net", "Message delivery has failed", """\
Unable to deliver message to: <{r}>
Delivery failed for the following reason:
Server mx.reader.example.net[192.0.2.20] failed with: {reply}

This has been a permanent failure.  No further delivery attempts will be made.
"""),
    "activehunter": ('"MAILER-DAEMON" <postmaster@ah.reader.example.net>', "FAILURE NOTICE : Gazette Daily", """\
  ----- The following addresses had permanent fatal errors -----

>>> {r} <{r}>

  ----- Transcript of session follows -----
{reply}
"""),
    "interscan": ('"InterScan MSS" <postmaster@imss.reader.example.net>', "Mail could not be delivered", """\
Mail could not be delivered.

Sent <<< RCPT TO:<{r}>
Received >>> {reply}
"""),
    "x6": ("postmaster@reader.example.net", "There was an error sending your mail", """\
1 error(s):

SMTP Server <mta2.reader.example.net> rejected recipient <{r}> (Error following RCPT command). It responded as \
follows: [{reply}]

The attachment contains the original mail headers.
"""),
    "mailmarshal": ("postmaster@mm.reader.example.net", 'Undeliverable Mail: "Gazette Daily"', """\
Your message:
   From:    daily@gazette.example.org
   Subject: Gazette Daily

Could not be delivered because of

{reply}

The following recipients were affected:
    {r}
"""),
    "telekom": ("Mail Delivery System <Mailer-Daemon@t-online.de>", "Mail delivery failed", """\
|------------------------- Failed addresses follow: ---------------------|
 <{r}>
   {reply}

|------------------------- Message text follows: ------------------------|
""" + RETURNED),
    "surfcontrol": ("postmaster@sc.reader.example.net", "Message could not be sent", """\
Your message could not be sent.
A transcript of the attempts to send the message follows.
The number of attempts made: 1
Addressed To: {r}

Mon 2 Mar 2026 10:00:05 +0000
Failed to send to identified host,
{r}: [192.0.2.5], {reply}
--- Message non-deliverable.
"""),
    "x3": ("Mail Delivery System <postmaster@x3.reader.example.net>", "Delivery status notification", """\
============================================================================
      This is an automatically generated Delivery Status Notification.

Delivery to the following recipients failed permanently:

  * {r}

============================================================================
                            Technical details:

SMTP:RCPT host 192.0.2.8: {reply}

============================================================================
"""),
    "ezweb": ("Postmaster@ezweb.ne.jp", "Mail System Error - Returned Mail", """\
Each of the following recipients was rejected by a remote mail server.

    Recipient: <{r}>
    >>> RCPT TO:<{r}>
    <<< {reply}
"""),
    "mxlogic": ("Mail Delivery System <MAILER-DAEMON@mxlogic.example.net>", "Mail delivery failed: returning message "
                "to sender", """\
This message was created automatically by mail delivery software.

A message that you have sent could not be delivered to one or more
recipients.  This is a permanent error.  The following address failed:

  <{r}>: {reply}

Included is a copy of the message header:
"""),
}


def layout(name: str, reader: str, reply: str, to: str = "bounces@bounce.example.net") -> bytes:
    """One bounce in the named layout, with `reply` as the server's words about `reader`."""
    sender, subject, body = LAYOUTS[name]
    return (f"From: {sender}\nTo: {to}\nSubject: {subject}\nDate: Mon, 2 Mar 2026 10:00:06 +0000\n"
            f"MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n\n"
            + body.format(r=reader, reply=reply.format(r=reader))).replace("\n", "\r\n").encode()
