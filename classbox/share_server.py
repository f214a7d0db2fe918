"""Share a copy, in every student's own server (a jupyter_server extension).

It runs as the student, so it reads only what the student can read and
writes only into the student's own folder, as the student (never root):
- POST <server>/classbox-share/share {"path": ...}: the file as it is now goes
  to the hub (classbox.share_pages), with this server's token; the answer is
  the link. JupyterLab's "Share a copy" (classbox/labextension) calls it.
- GET <server>/classbox-share/open/<code>: the hub's "Open a copy" button
  lands here (through /hub/spawn, which starts the server first): the snapshot is written into
  shared-with-me/<sender>-<name>, never over a file that is there, and
  JupyterLab opens it. Only a page the reader opened themselves may ask for
  it: a picture or a script elsewhere cannot make copies in their folder.
"""

import base64
import json
import os
from urllib.parse import quote, unquote

from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.utils import ensure_async, url_path_join
from tornado import httpclient, web

from . import sharing, usernames

FOLDER = "shared-with-me"
TIMEOUT = 120  # seconds: a snapshot of tens of MB on a busy Raspberry Pi


def _jupyter_server_extension_points():
    return [{"module": "classbox.share_server"}]


def _load_jupyter_server_extension(server_app):
    base_url = server_app.web_app.settings["base_url"]
    server_app.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base_url, "classbox-share/share"), ShareHandler),
            (url_path_join(base_url, r"classbox-share/open/([^/]+)"), OpenCopyHandler),
        ],
    )


async def hub(method: str, path: str, body: bytes | None = None) -> httpclient.HTTPResponse:
    """A request to the hub's API as this server (its token is the student's)."""
    request = httpclient.HTTPRequest(
        os.environ["JUPYTERHUB_API_URL"].rstrip("/") + path,
        method=method,
        body=body,
        headers={"Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}"},
        request_timeout=TIMEOUT,
    )
    return await httpclient.AsyncHTTPClient().fetch(request, raise_error=False)


def hub_message(response: httpclient.HTTPResponse) -> str:
    try:
        return json.loads(response.body)["message"]
    except (ValueError, KeyError, TypeError):
        return f"The box did not answer as expected ({response.code}). Try again in a minute."


def hub_status(response: httpclient.HTTPResponse) -> int:
    """The hub's refusal as this server's answer (599, no answer at all, is a gateway timeout)."""
    if response.code == 599:
        return 504
    return response.code if 400 <= response.code < 599 else 502


class ShareHandler(APIHandler):
    @web.authenticated
    async def post(self):
        path = (self.get_json_body() or {}).get("path", "")
        contents = self.contents_manager
        try:
            model = await ensure_async(contents.get(path, content=False))
        except web.HTTPError:
            self.answer(404, f"There is no file {path} to share.")
            return
        if model["type"] == "directory":
            self.answer(400, "Share a file, not a folder (download a folder as an archive, and share that).")
            return
        limit = int(os.environ.get("CLASSBOX_SHARE_MAX_BYTES", "0"))
        if limit and (model.get("size") or 0) > limit:
            # the hub says it too; this spares sending tens of MB for a no
            self.answer(413, sharing.too_big(model["name"], model["size"], limit))
            return
        model = await ensure_async(contents.get(path, content=True, type="file", format="base64"))
        data = base64.b64decode(model["content"])
        response = await hub("POST", f"/classbox/shares?name={quote(model['name'])}", data)
        if response.code != 201:
            self.answer(hub_status(response), hub_message(response))
            return
        self.set_status(201)
        self.finish(response.body)

    def answer(self, status, message):
        self.set_status(status)
        self.finish({"message": message})


class OpenCopyHandler(JupyterHandler):
    @web.authenticated
    async def get(self, code):
        # Fetch metadata, sent by the browsers of these years: only a page of this box
        # the reader navigates to, not a picture, a frame, a script or another site.
        destination = self.request.headers.get("Sec-Fetch-Dest", "document")
        site = self.request.headers.get("Sec-Fetch-Site", "same-origin")
        if destination != "document" or site not in ("same-origin", "none"):
            raise web.HTTPError(403, "Open a copy from the link's page on this box.")
        response = await hub("GET", f"/classbox/shares/{quote(code)}/copy")
        if response.code != 200:
            self.set_status(hub_status(response))
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(hub_message(response) + "\n")
            return
        owner = response.headers.get("X-Classbox-Owner", "")
        name = unquote(response.headers.get("X-Classbox-Name", ""))
        if not usernames.well_formed(owner) or sharing.name_problem(name):
            raise web.HTTPError(502, "The box sent a copy with a name that cannot be used.")
        file_name = write_copy(self.contents_manager.root_dir, owner, name, response.body)
        self.log.info("Copied %s from %s into %s/%s", code, owner, FOLDER, file_name)
        self.redirect(url_path_join(self.base_url, "lab/tree", FOLDER, quote(file_name)))


def write_copy(root_dir: str, owner: str, name: str, data: bytes) -> str:
    """Write the copy into <root>/shared-with-me under a name nobody's file has; its name."""
    folder = os.path.join(root_dir, FOLDER)
    os.makedirs(folder, exist_ok=True)
    while True:
        file_name = sharing.copy_name(owner, name, lambda candidate: os.path.lexists(os.path.join(folder, candidate)))
        try:
            # O_EXCL: never over a file, even one made between the check and now.
            fd = os.open(os.path.join(folder, file_name), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as stream:
            stream.write(data)
        return file_name
