"""Every default is written once: `make lint` fails where two places disagree.

`python -m classbox.settings` prints one line per problem and exits 1 if any.
The rules, for every role in roles/ and every example inventory in inventory/:

A role's defaults/main.yml and meta/argument_specs.yml name the same variables.
  Every variable in defaults/ is an option of one of the role's entry points,
  and every option that is not `required` is in defaults/. A required option
  (the admin's password) has no default at all.
A spec's `default:` is the value in defaults/main.yml, written the same.
  Ansible never reads it (defaults/ sets the variable; the spec documents it),
  so it must say the same: the same YAML value of the same type, in every entry
  point that names the option, and that value matches the option's `type`.
  Only a default that Ansible computes (a string holding "{{" or "{%") may
  leave `default:` out, and then the option's description says what it
  defaults to (it holds the word "default"); written, it is the same template.
An example inventory holds only what a teacher must set.
  A variable with a default is not set to it (the line would go stale when the
  default changes, as a copied 1G once did); set to another value, its line
  ends with `# not the default: <why>`. A commented-out setting
  (`# jupyterhub_idle_timeout: 3600`) shows the default. Every name set is a
  role's variable, a connection variable (ansible_*) or a secret (vault_*):
  anything else is a typo or a renamed variable that Ansible would ignore.
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"#\s*not the default:\s*\S")
COMMENTED_SETTING = re.compile(r"^\s*#\s*([a-z][a-z0-9_]*:(?:\s.*)?)$")
FREE_PREFIXES = ("ansible_", "vault_")
TYPES = {
    "bool": (bool,),
    "int": (int,),
    "float": (float, int),
    "str": (str,),
    "path": (str,),
    "list": (list,),
    "dict": (dict,),
}


def templated(value) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def same(a, b) -> bool:
    """Equal YAML values of the same kind: true is not 1, "8" is not 8."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b and isinstance(a, float) == isinstance(b, float)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def show(value) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def _read(path: Path):
    return yaml.safe_load(path.read_text()) if path.exists() else None


class Role:
    def __init__(self, folder: Path):
        self.name = folder.name
        self.defaults_file = folder / "defaults" / "main.yml"
        self.specs_file = folder / "meta" / "argument_specs.yml"
        self.defaults = _read(self.defaults_file) or {}
        specs = _read(self.specs_file) or {}
        # entry point -> {option: its spec}
        self.entries = {
            entry: (options or {}).get("options") or {}
            for entry, options in (specs.get("argument_specs") or {}).items()
        }

    def options(self) -> dict:
        """Every option of every entry point: name -> [(entry point, spec), ...]."""
        found = {}
        for entry, options in self.entries.items():
            for name, spec in options.items():
                found.setdefault(name, []).append((entry, spec or {}))
        return found


def roles(root: Path) -> list[Role]:
    folders = sorted(p for p in (root / "roles").iterdir() if p.is_dir())
    return [Role(f) for f in folders if (f / "defaults").exists() or (f / "meta" / "argument_specs.yml").exists()]


def role_problems(role: Role, root: Path) -> list[str]:
    defaults_at = role.defaults_file.relative_to(root)
    specs_at = role.specs_file.relative_to(root)
    options = role.options()
    problems = []
    for name in role.defaults:
        if name not in options:
            problems.append(f"{defaults_at}: {name} is not an option in {specs_at}")
    for name, specs in options.items():
        value = role.defaults.get(name)
        for entry, spec in specs:
            where = f"{specs_at}: {name} (entry point {entry})"
            if spec.get("required"):
                if name in role.defaults:
                    problems.append(f"{where} is required, yet {defaults_at} gives it a default")
                if "default" in spec:
                    problems.append(f"{where} is required and has a default")
                continue
            if name not in role.defaults:
                problems.append(f"{where} is not required, but {defaults_at} has no default for it")
                continue
            kind = spec.get("type", "str")
            if templated(value):
                described = " ".join(map(str, _lines(spec.get("description")))).lower()
                if "default" not in spec and "default" not in described:
                    problems.append(f"{where}: the description does not say what it defaults to")
                elif "default" in spec and spec["default"] != value:
                    problems.append(f"{where} has default {show(spec['default'])}, but {defaults_at} has {value}")
                continue
            expected = TYPES.get(kind)
            if expected and (not isinstance(value, expected) or isinstance(value, bool) and kind != "bool"):
                problems.append(f"{defaults_at}: {name} is {show(value)}, not of the type {kind} of {specs_at}")
            if "default" not in spec:
                problems.append(f"{where} has no default: (it is {show(value)} in {defaults_at})")
            elif not same(spec["default"], value):
                problems.append(f"{where} has default {show(spec['default'])}, but {defaults_at} has {show(value)}")
    return problems


def _lines(text) -> list:
    return text if isinstance(text, list) else [text or ""]


# --- example inventories ------------------------------------------------------


def _settings(node, loader):
    """(name, line, value) of each key of a mapping node."""
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(key.value, key.start_mark.line, loader.construct_object(value, deep=True)) for key, value in node.value]


def _child(node, key):
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if k.value == key:
                return v
    return None


def _inventory_groups(group, loader):
    """The variables of a group in an inventory file (hosts.yml), its hosts' and its children's."""
    found = _settings(_child(group, "vars"), loader)
    hosts = _child(group, "hosts")
    if isinstance(hosts, yaml.MappingNode):
        for _, host in hosts.value:
            found += _settings(host, loader)
    children = _child(group, "children")
    if isinstance(children, yaml.MappingNode):
        for _, child in children.value:
            found += _inventory_groups(child, loader)
    return found


def inventory_files(root: Path) -> list[Path]:
    files = []
    for inventory in sorted(p for p in (root / "inventory").iterdir() if p.is_dir()):
        files += sorted(p for p in inventory.glob("*.yml"))
        for folder in ("group_vars", "host_vars"):
            files += sorted(p for p in (inventory / folder).rglob("*") if p.is_file())
    return files


def inventory_problems(path: Path, root: Path, role_list: list[Role]) -> list[str]:
    try:
        text = path.read_text()
    except PermissionError:  # a box's own vault.yml, readable by root only: no example
        return []
    lines = text.splitlines()
    at = path.relative_to(root)
    defaults, known = {}, set()
    for role in role_list:
        defaults.update(role.defaults)
        known |= set(role.defaults) | set(role.options())
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            settings = []
        elif {"group_vars", "host_vars"} & set(at.parts):
            settings = _settings(node, loader)
        else:  # an inventory file: all: {hosts: ..., vars: ..., children: ...}
            settings = []
            for _, group in node.value if isinstance(node, yaml.MappingNode) else []:
                settings += _inventory_groups(group, loader)
    finally:
        loader.dispose()
    problems = []
    for name, line, value in settings:
        where = f"{at}:{line + 1}: {name}"
        if name.startswith(FREE_PREFIXES):
            continue
        if name not in known:
            problems.append(f"{where} is no role's variable (docs/variables.md lists them): a typo, or renamed?")
            continue
        if name not in defaults:
            continue  # required: the teacher must set it
        if same(value, defaults[name]):
            problems.append(
                f"{where} restates the default ({show(value)}): delete the line, or comment it out to show the default"
            )
        elif not MARKER.search(lines[line]):
            problems.append(
                f"{where} is {show(value)}, not the default {show(defaults[name])}: an example holds only "
                "what a teacher must set - comment it out with the default, or end the line with "
                "'# not the default: <why>'"
            )
    for number, line in enumerate(lines):
        match = COMMENTED_SETTING.match(line)
        if not match:
            continue
        try:
            shown = yaml.safe_load(match.group(1))
        except yaml.YAMLError:
            continue  # prose that happens to start with a word and a colon
        (name, value), *_ = shown.items()
        if value is None:
            continue  # the first line of a longer value, commented out line by line
        if name in defaults and not same(value, defaults[name]):
            problems.append(
                f"{at}:{number + 1}: {name} is shown commented out as {show(value)}, but its default "
                f"is {show(defaults[name])}"
            )
    return problems


def problems(root: Path = ROOT) -> list[str]:
    role_list = roles(root)
    found = []
    for role in role_list:
        found += role_problems(role, root)
    if (root / "inventory").is_dir():
        for path in inventory_files(root):
            found += inventory_problems(path, root, role_list)
    return found


def main() -> int:
    found = problems()
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(
            f"{len(found)} problem(s): defaults, argument specs and example inventories disagree "
            "(rules: classbox/settings.py)",
            file=sys.stderr,
        )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
