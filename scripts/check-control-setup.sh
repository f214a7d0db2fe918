#!/usr/bin/env bash
# The teacher's laptop, tried for real: in a fresh Debian container with this
# checkout (nothing else installed but Debian's python3), a user runs
# scripts/setup-control.sh as the teacher's guide says, and with the .venv it
# makes runs the playbooks' controller side against the container itself:
#   1. as a user, without Python's venv module: it stops, naming the package;
#   2. as root: it installs that package and makes .venv; again as the user:
#      up to date, nothing done;
#   3. every playbook passes --syntax-check with .venv's ansible-playbook;
#   4. site.yml's checks alone (--tags always, --check) pass with a vaulted
#      copy of inventory/classroom, which runs the controller's Python steps
#      (the inventory check, classbox/usernames.py, preflight.py on the box);
#   5. a misspelt setting and a missing offline bundle stop it with their
#      sentences (the latter from classbox/bundle.py on the controller);
#   6. as root, scripts/on-the-box.sh (the box without a laptop) makes
#      .venv-box from the same lock and runs site.yml (--syntax-check only);
#   7. on Debian 11 (Python 3.9) it stops with the sentence about the Python.
# Needs Docker, mmdebstrap (the Debian 11 image, built once) and the internet
# (Debian's packages and PyPI).
#   CONTROL_CHECK_IMAGE  the Debian to try (default: the default test box's)
set -euo pipefail
cd "$(dirname "$0")/.."
image=${CONTROL_CHECK_IMAGE:-classbox/debian-systemd:trixie}
old_image=classbox/check-control:bullseye
box=classbox-control-check
old_box=classbox-control-check-bullseye
home=/home/teacher/classbox
started=$SECONDS

cleanup() { docker rm -f "$box" "$old_box" >/dev/null 2>&1 || true; }
trap cleanup EXIT
cleanup
fail() { echo "check-control-setup: $*" >&2; exit 1; }
# in the container, as the user or root, in the checkout: prints stdout+stderr, returns the rc
as_teacher() { docker exec -u teacher -w "$home" "$box" "$@" 2>&1; }
as_root() { docker exec -u root -w "$home" "$box" "$@" 2>&1; }
expect() {  # expect RC WANTED-TEXT OUTPUT WHAT
  local rc=$1 wanted=$2 output=$3 what=$4
  if [ "$rc" -eq 0 ] || ! grep -qF -- "$wanted" <<<"$output"; then
    printf '%s\n' "$output" >&2
    fail "$what: wanted a failure saying '$wanted'; got rc $rc and the output above"
  fi
  echo "ok: $what: $(grep -F -- "$wanted" <<<"$output" | head -n 1 | sed 's/^ *//')"
}
step() { echo "==> [$((SECONDS - started)) s] $*"; }

step "A fresh $image with this checkout, as the user teacher"
docker image inspect "$image" >/dev/null 2>&1 || fail "no image $image (scripts/build-image.sh makes it)"
# systemd as PID 1, as in the test box's container (.config/molecule/config.yml)
docker run -d --name "$box" --hostname box --cap-add SYS_ADMIN --cgroupns host \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --volume /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock --tmpfs /tmp \
  --stop-signal RTMIN+3 "$image" /lib/systemd/systemd >/dev/null
docker exec "$box" useradd --create-home teacher
docker exec "$box" install -d -o teacher -g teacher "$home"
# what git would commit (tracked and new files, ignored ones left out): no venv, no bundle
git ls-files -z --cached --others --exclude-standard \
  | tar --create --null --files-from=- --ignore-failed-read --owner=teacher --group=teacher \
  | docker exec -i -u teacher "$box" tar --extract --directory "$home"

step "1. setup-control.sh as the user, with no venv module"
rc=0; out=$(as_teacher scripts/setup-control.sh) || rc=$?
expect "$rc" "lacks its venv module: sudo apt install python3." "$out" "no venv module, as a user"

step "2. setup-control.sh as root (installs the venv module, makes .venv), then as the user"
rc=0; out=$(as_root scripts/setup-control.sh) || rc=$?
[ "$rc" -eq 0 ] || { printf '%s\n' "$out" >&2; fail "setup-control.sh as root failed (rc $rc)"; }
grep -F '==> Ready: ansible-playbook [core 2.19.' <<<"$out" || { printf '%s\n' "$out" >&2; fail "no ansible-core 2.19 in .venv"; }
docker exec "$box" chown -R teacher:teacher "$home/.venv"
out=$(as_teacher scripts/setup-control.sh) || { printf '%s\n' "$out" >&2; fail "setup-control.sh as the user failed"; }
grep -F '.venv is up to date' <<<"$out" || { printf '%s\n' "$out" >&2; fail "the second run did not find .venv up to date"; }
extra=$(as_teacher .venv/bin/python -m pip list --disable-pip-version-check --format=freeze --exclude pip --exclude setuptools \
  | grep -viE '^(ansible-core|cffi|cryptography|jinja2|markupsafe|packaging|pycparser|pyyaml|resolvelib|uv)==' || true)
[ -z "$extra" ] || fail ".venv holds more than ansible-core, its dependencies and uv: $extra"
echo "ok: .venv holds ansible-core, its dependencies and uv only"

step "3. Every playbook's syntax with .venv/bin/ansible-playbook"
for playbook in site bundle backup restore; do
  out=$(as_teacher .venv/bin/ansible-playbook -i inventory/classroom/hosts.yml --syntax-check "playbooks/$playbook.yml") \
    || { printf '%s\n' "$out" >&2; fail "playbooks/$playbook.yml: syntax check failed"; }
done
echo "ok: site, bundle, backup, restore"

step "4. The teacher's copy of inventory/classroom, vaulted; site.yml's checks against this container"
# shellcheck disable=SC2016  # expanded by the container's shell
as_teacher sh -ec '
  cp -r inventory/classroom inventory/my-school
  cd inventory/my-school
  # the container stands in for the box: reached without SSH, and it has no sudo
  printf "%s\n" "---" "all:" "  hosts:" "    box:" "      ansible_connection: local" \
    "      ansible_python_interpreter: /usr/bin/python3" "      ansible_become: false" > hosts.yml
  sed "s/change-me-to-something-long/a-long-admin-password/" group_vars/all/vault.yml.example > group_vars/all/vault.yml
  echo "vault words for the check" > ../../.vault-pass
  ../../.venv/bin/ansible-vault encrypt --vault-password-file ../../.vault-pass group_vars/all/vault.yml
  head -n 1 group_vars/all/vault.yml | grep -q "^\$ANSIBLE_VAULT"'
checks=(.venv/bin/ansible-playbook -i inventory/my-school/hosts.yml playbooks/site.yml
        --vault-password-file .vault-pass --check --tags always)
out=$(as_teacher "${checks[@]}") || { printf '%s\n' "$out" >&2; fail "site.yml's checks failed on a good inventory"; }
grep -qE 'box +: ok=[1-9][0-9]* .*failed=0' <<<"$out" || { printf '%s\n' "$out" >&2; fail "no recap with failed=0"; }
grep -qF 'Ask the hub' <<<"$out" || { printf '%s\n' "$out" >&2; fail "the admin check (classbox/usernames.py) did not run"; }
# the course's packages locked next to the teacher's inventory, by the laptop's uv
as_teacher grep -q '^pandas==' inventory/my-school/course/requirements-python3.13.txt \
  || fail "site.yml's checks did not lock the course's packages in inventory/my-school/course/"
echo "ok: $(grep -E 'box +: ok=' <<<"$out" | tr -s ' ')"

step "5. A misspelt setting, a missing bundle, a course package with no wheel: stopped with their sentences"
rc=0; out=$(as_teacher "${checks[@]}" -e jupyterhub_class_sise=30) || rc=$?
expect "$rc" "jupyterhub_class_sise is not a setting" "$out" "a misspelt setting"
rc=0; out=$(as_teacher "${checks[@]}" -e packages_bundle=/home/teacher/classbox-bundle-trixie-arm64.tar) || rc=$?
expect "$rc" "packages_bundle: " "$out" "a missing bundle"
rc=0; out=$(as_teacher "${checks[@]}" -e '{"course_packages": ["numpy", "pyqt5-qt5"]}') || rc=$?
expect "$rc" "course_packages: pyqt5-qt5 has no wheel for arm64" "$out" "a course package without a wheel for the Pi"

step "6. On the box itself: scripts/on-the-box.sh puts the same lock in .venv-box"
rc=0; out=$(docker exec -u root -w "$home" -e BOX_ADMIN_PASSWORD=a-long-admin-password "$box" \
  scripts/on-the-box.sh --syntax-check 2>&1) || rc=$?
[ "$rc" -eq 0 ] || { printf '%s\n' "$out" >&2; fail "on-the-box.sh --syntax-check failed (rc $rc)"; }
[ "$(as_root stat -c %a inventory/on-the-box/group_vars/all/vault.yml)" = 600 ] || fail "on-the-box.sh's vault.yml is not 0600"
as_root .venv-box/bin/ansible-playbook --version | grep -F 'core 2.19.14' >/dev/null || fail ".venv-box has no ansible-core 2.19.14"
echo "ok: .venv-box from requirements-control.txt, the vault readable by root only"

step "7. Debian 11 (Python 3.9): the sentence about the Python"
if ! docker image inspect "$old_image" >/dev/null 2>&1; then
  work=$(mktemp -d /var/tmp/classbox-bullseye.XXXXXX)
  mmdebstrap --quiet --variant=minbase --include=python3 bullseye "$work/rootfs.tar"
  docker import "$work/rootfs.tar" "$old_image" >/dev/null
  rm -rf "$work"
fi
docker run -d --name "$old_box" --entrypoint sleep "$old_image" infinity >/dev/null
docker exec "$old_box" mkdir -p /classbox
tar --create scripts/setup-control.sh requirements-control.txt | docker exec -i "$old_box" tar --extract --directory /classbox
rc=0; out=$(docker exec -w /classbox "$old_box" scripts/setup-control.sh 2>&1) || rc=$?
expect "$rc" "ansible-core 2.19 needs Python 3.11 or newer on this computer; found 3.9 (/usr/bin/python3)." "$out" "Debian 11's python3"
expect "$rc" "Debian 12 and 13 have it (python3)" "$out" "Debian 11's advice"
rc=0; out=$(docker exec -w /classbox -e PYTHON=python3.12 "$old_box" scripts/setup-control.sh 2>&1) || rc=$?
expect "$rc" "found no python3.12." "$out" "PYTHON=python3.12 that is not there"
docker exec "$old_box" test ! -e /classbox/.venv || fail "a .venv was made with Python 3.9"

step "The teacher's laptop setup works ($((SECONDS - started)) s)"
