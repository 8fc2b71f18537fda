"""A real SMTP server (aiosmtpd) for notify/tests/email.rs, on 127.0.0.1 and a port the system
chooses, printed as `listening on PORT` once it accepts connections.

Each accepted message is written to --dir as N.json: envelope, decoded subject and text, every
header, and the raw bytes as sent. --reject names a recipient refused with 550, whose reply
quotes the address as real servers do (the client must not repeat it).

Modes: plain; starttls (required before anything else, with --cert/--key); tls (implicit TLS
from the first byte). --user/--password make AUTH PLAIN/LOGIN required, offered only over TLS.
"""

import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = reject
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.reject:
            return f"550 5.1.1 <{address}>: Recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "authenticated": bool(session.authenticated),
            "tls": server.transport.get_extra_info("ssl_object") is not None,
            "subject": str(message["subject"]),
            # As a mail reader shows it: lines, whatever the line ends on the wire.
            "text": body.get_content().replace("\r\n", "\n") if body is not None else None,
            "content_type": message.get_content_type(),
            "charset": message.get_content_charset(),
            "headers": [[name, str(value)] for name, value in message.items()],
            "raw": raw.decode("ascii", errors="replace"),
        }
        self.count += 1
        path = os.path.join(self.directory, f"{self.count}.json")
        # Written whole, then renamed, so the test never reads half a file.
        with open(path + ".part", "w", encoding="utf-8") as file:
            json.dump(record, file, ensure_ascii=False)
        os.rename(path + ".part", path)
        return "250 Message accepted for delivery"


class FixedLogin:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        good = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == self.user
            and auth_data.password == self.password
        )
        return AuthResult(success=good, handled=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["plain", "starttls", "tls"], default="plain")
    parser.add_argument("--dir", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--reject")
    args = parser.parse_args()

    context = None
    if args.mode != "plain":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler = Recorder(args.dir, args.reject)
    authenticator = FixedLogin(args.user, args.password) if args.user else None

    def factory():
        return SMTP(
            handler,
            hostname="smtp.test",
            tls_context=context if args.mode == "starttls" else None,
            require_starttls=args.mode == "starttls",
            authenticator=authenticator,
            auth_required=authenticator is not None,
            # Over implicit TLS aiosmtpd does not see the TLS layer itself; it is there all the same.
            auth_require_tls=args.mode == "starttls",
            timeout=30,
        )

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            factory, "127.0.0.1", 0, ssl=context if args.mode == "tls" else None
        )
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {port}", flush=True)
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


if __name__ == "__main__":
    sys.exit(main())
