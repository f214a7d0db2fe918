"""Share a copy, in the hub (classbox.sharing keeps the links).

For a student's server (classbox.share_server), with the server's own token,
which holds the scope SCOPE (the hub's config gives it to every user and to
their servers' tokens):
- POST /hub/api/classbox/shares?name=<file name>: the snapshot as the body;
  the answer is the new link, or the sentence that refuses it;
- GET /hub/api/classbox/shares/<code>/copy: the snapshot, for the reader's
  server to write into the reader's own folder.

For people, logged in (the login page first, then back here):
- /hub/s/<code>: the file read-only, and "Open a copy"; /hub/s/<code>/view is
  the snapshot's page, shown in a sandboxed frame with no script allowed;
- /hub/shares: my links, with what they hold and how many opened a copy;
  POST /hub/shares/<code>/withdraw withdraws one (the teacher: any link,
  also from the Students page).
"""

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

from jupyterhub.apihandlers.base import APIHandler
from jupyterhub.handlers import BaseHandler
from tornado import web
from tornado.iostream import StreamClosedError

from . import disk, sharing

SCOPE = "custom:classbox-share"
# Snapshots rendered at the same time, for the whole box (each in a child process).
MAKING = asyncio.Semaphore(2)

_STORE = {}


def store(authenticator) -> sharing.Store:
    """The hub's one store, made with the hub's settings at its first use."""
    key = authenticator.share_dir
    if key not in _STORE:
        _STORE[key] = sharing.Store(
            authenticator.share_dir,
            max_bytes=int(authenticator.share_max_megabytes * 1_000_000),
            days=authenticator.share_days,
            per_ten_minutes=authenticator.shares_per_ten_minutes,
        )
    return _STORE[key]


def is_teacher(handler) -> bool:
    return "admin:users" in handler.expanded_scopes


def when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).astimezone().strftime("%a %d %b %H:%M")


def rows(shares: list[sharing.Share], prefix: str) -> list[dict]:
    """The links as the pages list them."""
    now = time.time()
    return [
        {
            "code": share.code,
            "owner": share.owner,
            "name": share.name,
            "size": disk.human(share.size),
            "made": when(share.made),
            "expires": when(share.expires),
            "state": share.state(now),
            "copies": share.copies,
            "href": f"{prefix}s/{share.code}",
        }
        for share in shares
    ]


def withdrawn_message(handler) -> str | None:
    """The sentence after a withdrawal (the page it redirects to says it)."""
    code = handler.get_query_argument("withdrawn", "")
    return f"The link {code} is withdrawn: it shows nothing any more." if sharing.CODE.fullmatch(code) else None


class ShareApi(APIHandler):
    """The part a student's server talks to, with its token."""

    def answer(self, status, body):
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    def reader(self):
        user = self.current_user
        if user is None or getattr(user, "kind", None) != "user" or SCOPE not in self.expanded_scopes:
            raise web.HTTPError(403, "Sharing needs a server started after this box was upgraded: restart yours.")
        return user


@web.stream_request_body
class ShareCreateApi(ShareApi):
    """The snapshot arrives as the body, straight into a file in the store's folder: never
    whole in the hub's memory, never more than the size limit (plus one byte), one at a
    time per person, and refused before it is sent when the person may not share now."""

    uploading: set[str] = set()
    upload = None
    making = False

    async def prepare(self):
        await super().prepare()
        user = self.reader()
        shares = store(self.authenticator)
        length = self.request.headers.get("Content-Length", "")
        try:
            if user.name in self.uploading:
                raise sharing.Refused("Your last share is still on its way: wait for it, then share again.", 429)
            shares.check(user.name, None, int(length) if length.isdigit() else None, time.time())
        except sharing.Refused as refused:
            self.answer(refused.status, {"message": str(refused)})
            return
        self.request.connection.set_max_body_size(shares.max_bytes + 1)
        self.uploading.add(user.name)
        self.upload = shares.upload()

    def data_received(self, chunk):
        if self.upload is not None:
            self.upload.write(chunk)

    async def post(self):
        user = self.reader()
        name = self.get_query_argument("name", "")
        shares = store(self.authenticator)
        self.upload.close()
        try:
            # Copying and rendering (a child process) a snapshot of up to tens of MB: off the event loop,
            # and a few at a time for the whole box.
            async with MAKING:
                self.making = True  # from now on make() takes the upload, or removes it
                share = await asyncio.to_thread(shares.make, user.name, name, self.upload.name)
        except sharing.Refused as refused:
            self.answer(refused.status, {"message": str(refused)})
            return
        self.log.info("%s shared %s (%d bytes) as %s", user.name, name, share.size, share.code)
        prefix = self.hub.base_url.removesuffix("hub/")
        self.answer(
            201,
            {"code": share.code, "link": f"{prefix}s/{share.code}", "expires": share.expires, "days": shares.days},
        )

    def on_finish(self):
        """The request is over (answered, or the sender left): the next share of this person may come."""
        if self.upload is None:
            return
        upload, self.upload = self.upload, None
        self.uploading.discard(self.current_user.name)
        upload.close()
        if not self.making:
            Path(upload.name).unlink(missing_ok=True)

    def on_connection_close(self):
        self.on_finish()


class ShareCopyApi(ShareApi):
    async def get(self, code):
        user = self.reader()
        try:
            share, stream = store(self.authenticator).copy_for(code, user.name)
        except sharing.Refused as refused:
            self.answer(refused.status, {"message": str(refused)})
            return
        self.log.info("%s opened a copy of %s (%s by %s)", user.name, share.code, share.name, share.owner)
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("X-Classbox-Owner", share.owner)
        self.set_header("X-Classbox-Name", quote(share.name))
        await send_file(self, stream)


async def send_file(handler, stream):
    """A file in pieces: never held whole in the hub's memory; a reader who leaves ends it quietly."""
    with stream:
        try:
            while chunk := stream.read(1 << 20):
                handler.write(chunk)
                await handler.flush()
        except StreamClosedError:
            return
    handler.finish()


class SharePage(BaseHandler):
    """A shared file, read-only, with the button that opens a copy."""

    @web.authenticated
    async def get(self, code):
        self.set_header("Cache-Control", "no-store")
        try:
            share = store(self.authenticator).look_up(code, self.current_user.name)
        except sharing.Refused as refused:
            self.set_status(refused.status)
            self.finish(await self.render_template("share.html", share=None, problem=str(refused)))
            return
        html = await self.render_template(
            "share.html",
            share=rows([share], "")[0],
            problem=None,
            view_url=f"{self.hub.base_url}s/{share.code}/view",
            # The reader's own server, started first when it is not running.
            open_url=f"{self.hub.base_url}spawn/{quote(self.current_user.name)}?next="
            + quote(f"{self.current_user.url}classbox-share/open/{share.code}", safe=""),
            mine=share.owner == self.current_user.name,
        )
        self.finish(html)


class ShareView(BaseHandler):
    """The snapshot's own page (in the sandboxed frame): no script, nothing from outside the page."""

    @web.authenticated
    async def get(self, code):
        shares = store(self.authenticator)
        try:
            share = shares.look_up(code, self.current_user.name)
            stream = open(shares.html_path(share.code), "rb")  # noqa: SIM115 (send_file closes it)
        except sharing.Refused as refused:
            raise web.HTTPError(refused.status) from None
        except FileNotFoundError:  # withdrawn a moment ago
            raise web.HTTPError(410) from None
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", sharing.VIEW_POLICY)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        await send_file(self, stream)


class MySharesPage(BaseHandler):
    """/hub/shares: the links I made."""

    @web.authenticated
    async def get(self):
        shares = store(self.authenticator)
        shares.forget_old()
        html = await self.render_template(
            "shares.html",
            shares=rows(shares.links(self.current_user.name), self.hub.base_url),
            days=sharing.days_text(shares.days),
            result_message=withdrawn_message(self),
            alert="alert-success",
        )
        self.finish(html)


class WithdrawShare(BaseHandler):
    """POST /hub/shares/<code>/withdraw: the owner's link, or any link for the teacher."""

    @web.authenticated
    async def post(self, code):
        try:
            share = store(self.authenticator).withdraw(code, self.current_user.name, is_teacher(self))
        except sharing.Refused as refused:
            raise web.HTTPError(refused.status, str(refused)) from None
        self.log.info("%s withdrew the link %s (%s by %s)", self.current_user.name, share.code, share.name, share.owner)
        back = "students" if self.get_body_argument("next", "") == "students" and is_teacher(self) else "shares"
        self.redirect(f"{self.hub.base_url}{back}?withdrawn={share.code}#shares")


HANDLERS = [
    (r"/api/classbox/shares", ShareCreateApi),
    (r"/api/classbox/shares/([^/]+)/copy", ShareCopyApi),
    (r"/s/([^/]+)", SharePage),
    (r"/s/([^/]+)/view", ShareView),
    (r"/shares", MySharesPage),
    (r"/shares/([^/]+)/withdraw", WithdrawShare),
]
