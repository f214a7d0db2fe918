"""make lint's agreement check: defaults/, argument specs and example inventories."""

import textwrap

import pytest

from classbox import settings

DEFAULTS = """\
---
demo_port: 80
demo_title: Classroom box
demo_ipv6: "{{ ansible_facts.all_ipv6_addresses | length > 0 }}"
demo_packages: [nginx, curl]
demo_cpu: 1.0
"""

SPECS = """\
---
argument_specs:
  main:
    short_description: A role
    options:
      demo_port: {type: int, default: 80, description: The port.}
      demo_title: {type: str, default: Classroom box, description: The title.}
      demo_ipv6: {type: bool, description: Defaults to true when the box has IPv6.}
      demo_packages: {type: list, elements: str, default: [nginx, curl], description: Packages.}
      demo_cpu: {type: float, default: 1.0, description: Cores.}
      demo_password: {type: str, required: true, description: The password.}
"""

GROUP_VARS = """\
---
demo_password: "{{ vault_demo_password }}"
# demo_port: 80
demo_title: Our box  # not the default: the school's name
"""

HOSTS = """\
---
all:
  hosts:
    box:
      ansible_host: 192.168.1.50
"""


def write(root, path, text):
    target = root / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(text))


@pytest.fixture
def repo(tmp_path):
    """A repository whose one role and one example inventory agree."""
    write(tmp_path, "roles/demo/defaults/main.yml", DEFAULTS)
    write(tmp_path, "roles/demo/meta/argument_specs.yml", SPECS)
    write(tmp_path, "inventory/classroom/group_vars/all/main.yml", GROUP_VARS)
    write(tmp_path, "inventory/classroom/hosts.yml", HOSTS)
    return tmp_path


def edit(root, path, old, new):
    target = root / path
    text = target.read_text()
    assert old in text
    target.write_text(text.replace(old, new))


def test_an_agreeing_repository_has_no_problem(repo):
    assert settings.problems(repo) == []


def test_the_project_itself_is_checked_by_make_lint():
    # The real roles are read (their agreement is make lint's job, not this test's).
    names = {role.name for role in settings.roles(settings.ROOT)}
    assert {"base", "jupyterhub", "web"} <= names


DEFAULTS_FILE = "roles/demo/defaults/main.yml"
SPECS_FILE = "roles/demo/meta/argument_specs.yml"


@pytest.mark.parametrize(
    "path, old, new, says",
    [
        (DEFAULTS_FILE, "demo_cpu: 1.0\n", "demo_cpu: 1.0\ndemo_extra: 3\n", "demo_extra is not an option"),
        (DEFAULTS_FILE, "demo_port: 80\n", "", "has no default for it"),
        (DEFAULTS_FILE, "demo_port: 80", "demo_port: 8080", "has default 80, but"),
        (DEFAULTS_FILE, "demo_port: 80", 'demo_port: "80"', "not of the type int"),
        (DEFAULTS_FILE, "demo_title: Classroom box", "demo_title: Classroom Box", "has default Classroom box"),
        (DEFAULTS_FILE, "[nginx, curl]", "[curl, nginx]", "has default [nginx, curl]"),
        (DEFAULTS_FILE, "demo_cpu: 1.0", "demo_cpu: 1", "has default 1.0, but"),
        (DEFAULTS_FILE, "demo_cpu: 1.0\n", 'demo_cpu: 1.0\ndemo_password: ""\n', "gives it a default"),
        (SPECS_FILE, "{type: int, default: 80,", "{type: int,", "demo_port (entry point main) has no default"),
        (SPECS_FILE, "Defaults to true when", "True when", "does not say what it defaults to"),
        (SPECS_FILE, "{type: bool,", '{type: bool, default: "{{ true }}",', "has default '{{ true }}'"),
    ],
)
def test_a_role_whose_defaults_and_specs_disagree_fails(repo, path, old, new, says):
    edit(repo, path, old, new)
    found = settings.problems(repo)
    assert any(says in problem for problem in found), found


def test_a_computed_default_may_be_written_in_the_spec_as_the_same_template(repo):
    template = '"{{ ansible_facts.all_ipv6_addresses | length > 0 }}"'
    edit(repo, SPECS_FILE, "{type: bool,", f"{{type: bool, default: {template},")
    assert settings.problems(repo) == []


def test_an_option_in_two_entry_points_agrees_in_each(repo):
    edit(
        repo,
        SPECS_FILE,
        "      demo_password:",
        "  other:\n    short_description: Another entry point\n    options:\n"
        "      demo_port: {type: int, default: 81, description: The port.}\n      demo_password:",
    )
    found = settings.problems(repo)
    assert found == [f"{SPECS_FILE}: demo_port (entry point other) has default 81, but {DEFAULTS_FILE} has 80"]


GROUP_VARS_FILE = "inventory/classroom/group_vars/all/main.yml"


@pytest.mark.parametrize(
    "old, new, says",
    [
        ("# demo_port: 80", "demo_port: 80", "demo_port restates the default (80)"),
        ("# demo_port: 80", "demo_port: 8080", "demo_port is 8080, not the default 80"),
        ("  # not the default: the school's name", "", "demo_title is Our box, not the default"),
        ("  # not the default: the school's name", "  # not the default:", "demo_title is Our box"),
        ("# demo_port: 80", "# demo_port: 8080", "demo_port is shown commented out as 8080"),
        ("# demo_port: 80", "demo_prot: 80", "demo_prot is no role's variable"),
        ("# demo_port: 80", "demo_cpu: 1", "demo_cpu is 1, not the default 1.0"),
    ],
)
def test_an_example_inventory_that_restates_or_overrides_a_default_fails(repo, old, new, says):
    edit(repo, GROUP_VARS_FILE, old, new)
    found = settings.problems(repo)
    assert any(GROUP_VARS_FILE in problem and says in problem for problem in found), found


def test_an_inventory_files_host_variables_are_checked_too(repo):
    edit(repo, "inventory/classroom/hosts.yml", "ansible_host: 192.168.1.50", "ansible_host: x\n      demo_port: 80")
    assert settings.problems(repo) == [
        "inventory/classroom/hosts.yml:6: demo_port restates the default (80): "
        "delete the line, or comment it out to show the default"
    ]


def test_secrets_connection_variables_and_required_settings_may_be_set(repo):
    write(repo, "inventory/classroom/group_vars/all/vault.yml.example", "---\nvault_demo_password: change-me\n")
    edit(repo, "inventory/classroom/hosts.yml", "ansible_host: 192.168.1.50", "ansible_user: teacher")
    assert settings.problems(repo) == []
