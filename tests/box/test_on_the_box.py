"""The playbook run on the box itself (no laptop): scripts/on-the-box.sh."""

import json
import os
import subprocess

from tests.box.box import BOX_CONTAINER, only_in_the_first_pass
from tests.box.playbook import PROJECT

COPY = "/root/classbox"


def changed_tasks(output):
    """The tasks of an ansible-playbook --diff run that said "changed", each with its output."""
    changed, task = [], []
    for line in output.splitlines():
        if line.startswith("TASK ["):
            task = [line]
        else:
            task.append(line)
            if line.startswith("changed:"):
                changed.append("\n".join(task[:40]))
    return "changed tasks:\n" + "\n".join(changed)


def test_the_box_provisions_itself_from_a_copy_of_the_repository(host, admin_credentials):
    only_in_the_first_pass(host, "provisioning from the box itself")
    # a copy of the repository on the box, as a teacher would carry it
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT, check=True, capture_output=True, text=True).stdout.split()
    packed = subprocess.run(["tar", "-c", "-C", str(PROJECT), *files], check=True, capture_output=True).stdout
    host.run_expect([0], f"rm -rf {COPY} && mkdir -p {COPY}")
    subprocess.run(["docker", "exec", "-i", BOX_CONTAINER, "tar", "-x", "-C", COPY], input=packed, check=True)
    try:
        run = subprocess.run(
            [
                "docker",
                "exec",
                "-e",
                "BOX_ADMIN_PASSWORD",
                BOX_CONTAINER,
                f"{COPY}/scripts/on-the-box.sh",
                "-e",
                "base_set_hostname=false",
                "--diff",  # what a change changed, in the failure's message
                # the course as the scenario's inventory has it (.config/molecule/config.yml)
                "-e",
                json.dumps({"course_name": "Physics 9B", "classbox_course_lock_dir": f"{COPY}/inventory/demo/course"}),
            ],
            capture_output=True,
            text=True,
            timeout=900,
            env={**os.environ, "BOX_ADMIN_PASSWORD": admin_credentials[1]},
        )
        output = run.stdout + run.stderr
        assert run.returncode == 0, output[-3000:]
        recap = output[output.rindex("PLAY RECAP") :]
        # the box was provisioned already (from the laptop): run locally, nothing changes
        assert "localhost" in recap and "changed=0" in recap and "failed=0" in recap, changed_tasks(output)
        assert admin_credentials[1] not in output, "the admin's password was printed"
        vault = host.file(f"{COPY}/inventory/on-the-box/group_vars/all/vault.yml")
        assert (vault.user, vault.mode) == ("root", 0o600)
        assert host.run_expect([0], f"{COPY}/.venv-box/bin/ansible-playbook --version").stdout.startswith(
            "ansible-playbook [core 2.19"
        )
    finally:
        host.run(f"rm -rf {COPY}")
