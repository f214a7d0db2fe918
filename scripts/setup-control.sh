#!/bin/sh
# Make this computer the teacher's controller, the one that provisions a box:
# a venv, .venv, with Ansible from requirements-control.txt (ansible-core and
# what it needs, every version pinned and hashed), and nothing else: no
# Docker, no browser, no image (those are the test machine's: make setup).
# Debian, Ubuntu or macOS, with Python 3.11 or newer (ansible-core 2.19's):
#
#   scripts/setup-control.sh                      (or: make control)
#   PYTHON=python3.12 scripts/setup-control.sh    with that Python
#
# Without PYTHON it takes python3, or else the newest python3.1x on the PATH
# that is new enough. Python's venv module missing on Debian or Ubuntu (the
# python3.X-venv package): as root it installs it, otherwise it says how.
# Safe to run again: the venv is made again only when requirements-control.txt
# changed or its Python is gone. POSIX sh, so that macOS's /bin/sh runs it.
set -eu
cd "$(dirname "$0")/.."
venv=.venv
pins=requirements-control.txt
needed=3.11

version_of() { "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null; }
new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; }

how_to_get_python() {  # one line: how to get a new enough Python on this system
  case $(uname -s) in
    Darwin)
      echo "On macOS: brew install python@3.12, then PYTHON=python3.12 $0" ;;
    *)
      # shellcheck disable=SC1091  # the system's own file
      case $( (. /etc/os-release && echo "${ID:-}:${VERSION_ID:-}") 2>/dev/null || true) in
        debian:1[01]|debian:[0-9])
          echo "Debian 12 and 13 have it (python3): upgrade this computer to one of them, or use another computer." ;;
        ubuntu:22.04)
          echo "On Ubuntu 22.04: sudo apt install python3.11 python3.11-venv, then PYTHON=python3.11 $0" ;;
        *)
          echo "Install Python $needed or newer, then PYTHON=/path/to/python3.12 $0" ;;
      esac ;;
  esac
}

# The Python: $PYTHON, or the first new enough of python3, python3.14 ... python3.11.
candidates=${PYTHON:-python3 python3.14 python3.13 python3.12 python3.11}
python=
for candidate in $candidates; do
  command -v "$candidate" >/dev/null 2>&1 || continue
  if new_enough "$candidate"; then
    python=$(command -v "$candidate")
    break
  fi
done
if [ -z "$python" ]; then
  first=${PYTHON:-python3}
  if command -v "$first" >/dev/null 2>&1; then
    found="$(version_of "$first" || echo 'a Python that does not run') ($(command -v "$first"))"
  else
    found="no $first"
  fi
  echo "ansible-core 2.19 needs Python $needed or newer on this computer; found $found." >&2
  how_to_get_python >&2
  exit 1
fi
version=$(version_of "$python")

# Debian and Ubuntu ship Python's venv module (with ensurepip) in its own package.
if ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  if command -v apt-get >/dev/null 2>&1; then
    package=python$version-venv
    if [ "$(id -u)" -eq 0 ]; then
      echo "==> Installing $package (Python's venv module)"
      apt-get update -q
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$package"
    else
      echo "Python $version ($python) lacks its venv module: sudo apt install $package, then run $0 again." >&2
      exit 1
    fi
  else
    echo "Python $version ($python) lacks its venv module (ensurepip); install a full Python $needed or newer, then PYTHON=/path/to/it $0" >&2
    exit 1
  fi
fi

# The stamp holds one sha256 per pin file the venv was made from; a test
# machine's .venv (scripts/setup-host.sh: control and test pins) has this one too.
want=$("$python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$pins")
if [ -x "$venv/bin/ansible-playbook" ] && new_enough "$venv/bin/python" \
  && grep -qx "$want" "$venv/.pins.sha256" 2>/dev/null; then
  echo "$venv is up to date with $pins (Python $(version_of "$venv/bin/python"))."
  exit 0
fi
echo "==> Creating $venv from $pins with $python (Python $version)"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --no-input --disable-pip-version-check --require-hashes -r "$pins"
echo "$want" > "$venv/.pins.sha256"
echo "==> Ready: $("$venv/bin/ansible-playbook" --version | head -n 1). A box is provisioned with"
echo "    .venv/bin/ansible-playbook -i inventory/my-school/hosts.yml playbooks/site.yml --ask-vault-pass --ask-become-pass"
