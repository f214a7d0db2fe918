"""SystemdSpawner that survives a student's server stopped outside the hub.

SystemdSpawner puts each server's environment file in its RuntimeDirectory,
/run/jupyter-<name>-singleuser. With DynamicUser that path is a link into
/run/private/, and stopping the unit leaves the link dangling; the next start
then fails with FileExistsError and the student sees a 500 (SystemdSpawner
issues 76 and 142). Remove the dangling link before starting.
"""

import os

from systemdspawner import SystemdSpawner, systemd


def remove_dangling_link(path: str) -> bool:
    """Remove `path` if it is a link to nothing; True if it was removed."""
    if os.path.islink(path) and not os.path.exists(path):
        os.unlink(path)
        return True
    return False


class ClassroomSpawner(SystemdSpawner):
    async def start(self):
        if not await systemd.service_running(self.unit_name):
            runtime_dir = os.path.join(systemd.RUN_ROOT, self.unit_name)
            if remove_dangling_link(runtime_dir):
                self.log.info("Removed stale runtime link %s", runtime_dir)
        return await super().start()
