#!/usr/bin/env python3
"""Write docs/variables.md from each role's meta/argument_specs.yml and defaults.

`python -m classbox.variables_doc --check` exits 1 when the page is out of date
(make lint runs it), so the docs and the specs never disagree.
"""

import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The roles in the order playbooks/site.yml runs them, then the others (backup).
SITE_ROLES = [entry["role"] for entry in yaml.safe_load((ROOT / "playbooks" / "site.yml").read_text())[0]["roles"]]
ROLES = SITE_ROLES + sorted(p.name for p in (ROOT / "roles").iterdir() if p.name not in SITE_ROLES)
PAGE = ROOT / "docs" / "variables.md"


def cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def describe(text) -> str:
    lines = text if isinstance(text, list) else [text]
    # Ansible's markup O(option) and C(code) becomes Markdown code.
    return cell(re.sub(r"\b[OC]\(([^)]*)\)", r"`\1`", " ".join(str(line) for line in lines)))


def render() -> str:
    out = [
        "# Variables",
        "",
        "Every setting of every role, with its default. Set them in your inventory",
        "(`inventory/classroom/group_vars/all/main.yml`). This page is generated from",
        "each role's `meta/argument_specs.yml` by `python -m classbox.variables_doc`.",
        "",
    ]
    for role in ROLES:
        spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
        defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
        out += [f"## Role `{role}`", ""]
        for entry, options in spec["argument_specs"].items():
            if entry != "main":
                out += [f"### `{entry}` (`tasks_from: {entry}`)", ""]
            out += [describe(options.get("description", options["short_description"])), ""]
            out += table(options["options"], defaults)
    return "\n".join(out)


def table(options, defaults) -> list[str]:
    out = ["| variable | type | default | what it does |", "| --- | --- | --- | --- |"]
    for name, option in options.items():
        if option.get("required"):
            default = "**required**"
        elif name in defaults:
            default = (
                f"`{cell(yaml.safe_dump(defaults[name], default_flow_style=True).strip().removesuffix('...').strip())}`"
            )
        else:
            default = ""
        out.append(f"| `{name}` | {option.get('type', 'str')} | {default} | {describe(option['description'])} |")
    out.append("")
    return out


def write_or_check(page: Path, text: str, check: bool, stale: str) -> int:
    """A generated page: write it, or with `check` exit 1 (saying `stale`) when it differs."""
    if check:
        if not page.exists() or page.read_text() != text:
            print(stale, file=sys.stderr)
            return 1
        return 0
    page.write_text(text)
    return 0


def main() -> int:
    stale = f"{PAGE.relative_to(ROOT)} is out of date: run python -m classbox.variables_doc"
    return write_or_check(PAGE, render(), "--check" in sys.argv, stale)


if __name__ == "__main__":
    sys.exit(main())
