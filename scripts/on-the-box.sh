#!/usr/bin/env bash
# Make this machine the classroom box, with no laptop: run on a fresh
# Raspberry Pi OS Lite (64-bit) or Debian 13 or 12, from a copy of this repository,
#
#   sudo scripts/on-the-box.sh [ansible-playbook options]
#
# e.g. `-e packages_bundle=/media/usb/classbox-bundle-trixie-arm64.tar` to install
# from an offline bundle. The first time, it asks for the admin's password and
# keeps it in inventory/on-the-box/group_vars/all/vault.yml (root only), and
# puts Ansible in .venv-box (this needs the internet once). Then it runs
# playbooks/site.yml on this machine; run it again at any time.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "Run it as root: sudo $0 $*" >&2
  exit 1
fi

vault=inventory/on-the-box/group_vars/all/vault.yml
if [ ! -s "$vault" ]; then
  password=${BOX_ADMIN_PASSWORD:-}
  if [ -z "$password" ]; then
    read -r -s -p "Choose the admin's password (8 characters or more): " password; echo
    read -r -s -p "Type it again: " again; echo
    if [ "$password" != "$again" ]; then
      echo "The two passwords differ; nothing was changed. Run the script again." >&2
      exit 1
    fi
  fi
  umask 077
  # through stdin, so the password never shows in the process list
  printf '%s' "$password" | python3 -c 'import json, sys
print("---\n# Made by scripts/on-the-box.sh; readable by root only.")
print("vault_jupyterhub_admin_password: " + json.dumps(sys.stdin.read()))' > "$vault"
  umask 022
  echo "The admin's password is kept in $vault (readable by root only)."
fi

# Ansible from the controller's lock (ansible-core alone, hashed), made again
# when the lock changes; its stamp as scripts/setup-control.sh writes it.
want=$(sha256sum < requirements-control.txt | cut -d' ' -f1)
if [ ! -x .venv-box/bin/ansible-playbook ] || ! grep -qx "$want" .venv-box/.pins.sha256 2>/dev/null; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-venv
  fi
  rm -rf .venv-box
  python3 -m venv .venv-box
  .venv-box/bin/pip install -q --no-input --disable-pip-version-check --require-hashes -r requirements-control.txt
  echo "$want" > .venv-box/.pins.sha256
fi

exec .venv-box/bin/ansible-playbook -i inventory/on-the-box/hosts.yml playbooks/site.yml "$@"
