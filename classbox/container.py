"""The box's container, as `docker run` arguments, from the tests' one platform.

    python -m classbox.container options   one `docker run` option per line
    python -m classbox.container command   the image, then the command to run in it

The molecule scenarios and scripts/demo.sh start the same container: a Debian
image with systemd as PID 1, with what systemd needs from the engine. Its one
definition is the platform in .config/molecule/config.yml; this prints it for
`docker run`. Values written `${NAME:-default}` take the environment's NAME
(BOX_IMAGE, for example), as molecule reads them.
"""

import argparse
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_FILE = ROOT / ".config" / "molecule" / "config.yml"
VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")

# platform key -> the docker run option for each of its values
OPTIONS = {
    "hostname": "--hostname",
    "stop_signal": "--stop-signal",
    "capabilities": "--cap-add",
    "security_opts": "--security-opt",
    "cgroupns_mode": "--cgroupns",
    "volumes": "--volume",
    "tmpfs": "--tmpfs",
}
# Left to whoever starts the container: its name, where it publishes its port.
NOT_HERE = {"name", "published_ports", "pre_build_image", "image", "command"}


def expand(text: str, environ=os.environ) -> str:
    return VARIABLE.sub(lambda m: environ.get(m.group(1)) or (m.group(2) or ""), text)


def platform(path: Path = PLATFORM_FILE) -> dict:
    (entry,) = yaml.safe_load(path.read_text())["platforms"]
    unknown = set(entry) - set(OPTIONS) - NOT_HERE
    if unknown:
        raise SystemExit(f"{path.relative_to(ROOT)}: classbox.container does not know {sorted(unknown)}")
    return entry


def options(entry: dict) -> list[str]:
    found = []
    for key, option in OPTIONS.items():
        values = entry.get(key, [])
        for value in [values] if isinstance(values, str) else values:
            found.append(f"{option}={expand(str(value))}")
    return found


def command(entry: dict) -> list[str]:
    return [expand(entry["image"]), *expand(entry["command"]).split()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["options", "command"])
    args = parser.parse_args(argv)
    entry = platform()
    print("\n".join(options(entry) if args.part == "options" else command(entry)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
