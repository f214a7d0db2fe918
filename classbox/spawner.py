"""SystemdSpawner that survives a student's server stopped outside the hub.

SystemdSpawner puts each server's environment file in its RuntimeDirectory,
/run/jupyter-<name>-singleuser. With DynamicUser that path is a link into
/run/private/, and stopping the unit leaves the link dangling; the next start
then fails with FileExistsError and the student sees a 500 (SystemdSpawner
issues 76 and 142). Remove the dangling link before starting.

While a server starts, the spawn page shows its progress (progress()): how
many classmates' servers the box is starting at the same moment, then that
the server runs and JupyterLab is loading, instead of a silent wait.

Only its student may open a server (OWN_SERVER_SCOPE), an admin neither: every
server is on the box's one origin, so a page a student's server sends (a
notebook's trusted output, say) runs with the session of whoever opens it. In
the teacher's browser it could read the hub's pages and make an admin token.
"""

import asyncio
import os
import time
import weakref

from systemdspawner import SystemdSpawner, systemd
from traitlets import default

# The scope that opens a server: each user holds it for their own alone (the
# hub config's "user" role: OWN_SERVER_SCOPE + "!user"). JupyterHub's admin
# role holds access:servers for every server, and it cannot be changed.
OWN_SERVER_SCOPE = "custom:classbox-own-server"


def own_server_scopes(username: str) -> list[str]:
    return [f"{OWN_SERVER_SCOPE}!user={username}"]


def remove_dangling_link(path: str) -> bool:
    """Remove `path` if it is a link to nothing; True if it was removed."""
    if os.path.islink(path) and not os.path.exists(path):
        os.unlink(path)
        return True
    return False


def progress_event(others_starting: int, unit_running: bool, waited: float) -> dict:
    """The spawn page's line for a student whose server started `waited` seconds ago."""
    if unit_running:
        return {
            "progress": min(95, 60 + int(waited)),
            "message": f"Your server is running and JupyterLab is loading ({waited:.0f} s).",
        }
    if others_starting:
        servers = "server" if others_starting == 1 else "servers"
        return {
            "progress": min(50, 10 + int(waited)),
            "message": f"Starting your server ({waited:.0f} s). The box is starting {others_starting} other"
            f" {servers} at the same moment, so this can take up to a minute: keep this page open.",
        }
    return {"progress": min(50, 10 + int(waited)), "message": f"Starting your server ({waited:.0f} s)."}


class ClassroomSpawner(SystemdSpawner):
    # Every spawner of the hub, to count the servers starting at a moment.
    everyone = weakref.WeakSet()
    started_at = 0.0
    unit_running = False

    # What the server asks of a browser's login (its oauth_callback refuses a
    # user without it), and what its OAuth client may grant.
    @default("oauth_access_scopes")
    def _only_its_student(self):
        return own_server_scopes(self.user.name)

    @default("oauth_client_allowed_scopes")
    def _grant_its_student_access(self):
        return own_server_scopes(self.user.name)

    async def start(self):
        ClassroomSpawner.everyone.add(self)
        self.started_at, self.unit_running = time.monotonic(), False
        if not await systemd.service_running(self.unit_name):
            runtime_dir = os.path.join(systemd.RUN_ROOT, self.unit_name)
            if remove_dangling_link(runtime_dir):
                self.log.info("Removed stale runtime link %s", runtime_dir)
        address = await super().start()
        # The hub now waits for the server to answer (JupyterLab loading).
        self.unit_running = address is not None
        return address

    async def stop(self, now=False):
        self.started_at, self.unit_running = 0.0, False
        return await super().stop(now)

    def others_starting(self) -> int:
        return sum(
            1 for spawner in list(ClassroomSpawner.everyone) if spawner is not self and spawner.pending == "spawn"
        )

    async def progress(self):
        """Yield the spawn page's line each time it changes (the hub stops when the spawn ends)."""
        last = None
        while True:
            # (before start() is called, the hub's own steps: nothing waited yet)
            waited = time.monotonic() - self.started_at if self.started_at else 0.0
            event = progress_event(self.others_starting(), self.unit_running, waited)
            if event != last:
                yield event
                last = event
            await asyncio.sleep(1)
