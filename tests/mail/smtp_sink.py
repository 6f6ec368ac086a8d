"""An SMTP server for the e-mail tests (tests/tests/mail.rs).

    python smtp_sink.py PORT DIRECTORY [USER PASSWORD]

Listens on 127.0.0.1:PORT, writes each message it accepts to DIRECTORY as
<pid>-<n>.json (written to a temporary name, then renamed, so a reader
never sees half a file), prints "ready" once listening, and serves until it
is terminated. With USER and PASSWORD it offers AUTH (without TLS: the
tests run on loopback), accepts only that login, and refuses mail from a
client that has not logged in. The JSON is the message as Python's own e-mail parser reads
it: the envelope, the headers, the text and HTML parts, and the attachments
(base64), so the tests check the MIME structure with a parser that is not
the server's.
"""

import base64
import email
import email.policy
import itertools
import json
import os
import signal
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory, login=None):
        self.directory = directory
        self.login = login
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.login is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        final = os.path.join(self.directory, f"{os.getpid()}-{n}.json")
        partial = final + ".partial"
        with open(partial, "w", encoding="utf-8") as out:
            json.dump(summary(envelope), out)
        os.rename(partial, final)
        return "250 Message accepted for delivery"


def summary(envelope):
    message = email.message_from_bytes(
        envelope.original_content, policy=email.policy.default
    )
    parts = {"text": None, "html": None}
    attachments = []
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            attachments.append(
                {
                    "filename": part.get_filename(),
                    "contentType": part.get_content_type(),
                    "base64": base64.b64encode(part.get_payload(decode=True)).decode(),
                }
            )
        elif part.get_content_type() == "text/plain":
            parts["text"] = part.get_content()
        elif part.get_content_type() == "text/html":
            parts["html"] = part.get_content()
    return {
        "mailFrom": envelope.mail_from,
        "rcptTos": envelope.rcpt_tos,
        "from": str(message["From"]),
        "to": str(message["To"]),
        "subject": str(message["Subject"]),
        "contentType": message.get_content_type(),
        "alternatives": [
            p.get_content_type()
            for p in message.walk()
            if p.get_content_type() == "multipart/alternative"
        ],
        "text": parts["text"],
        "html": parts["html"],
        "attachments": attachments,
    }


def main():
    port = int(sys.argv[1])
    directory = sys.argv[2]
    login = None
    options = {}
    if len(sys.argv) > 4:
        login = (sys.argv[3].encode(), sys.argv[4].encode())

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and (auth_data.login, auth_data.password) == login
            )
            # handled=False: aiosmtpd answers the refusal (535) itself.
            return AuthResult(success=ok, handled=False)

        options = {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(
        Sink(directory, login), hostname="127.0.0.1", port=port, **options
    )
    controller.start()
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
