#!/usr/bin/env bash
# The local demo box: a Debian 13 (trixie) container with systemd, provisioned
# by the real playbooks/site.yml. `scripts/demo.sh up` (make demo) creates or
# re-provisions it; `scripts/demo.sh down` (make demo-down) removes it.
#   BOX_PORT            the local port of http://localhost:<port>/jupyterhub/ (8080)
#   BOX_ADMIN_PASSWORD  the admin's password (made once and kept in .demo/ otherwise)
#   BOX_NAME, BOX_STATE_DIR  another box beside the demo box (the backup test's)
#   BOX_NETWORK=none    a box with no network at all (bench/offline-install.sh)
#   BOX_IMAGE           another image (classbox/debian-systemd:bookworm: Debian 12;
#                       :trixie-arm64, after scripts/setup-host.sh --pi: a Raspberry
#                       Pi under emulation)
#   BOX_DOCKER_ARGS     more options for `docker run` when the box is created, split
#                       at spaces (the disk-full test's: -v ... --device /dev/loopN)
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=${BOX_NAME:-classbox-demo}
PORT=${BOX_PORT:-8080}
STATE=${BOX_STATE_DIR:-.demo}
export BOX_NAME=$NAME  # inventory/demo reaches the container by this name
read -r -a DOCKER_ARGS <<< "${BOX_DOCKER_ARGS:-}"

ACTION=${1:-up}
shift || true  # the rest goes to ansible-playbook (for example -e name=value)
case "$ACTION" in
  down)
    docker rm -f "$NAME" >/dev/null 2>&1 && echo "Removed the demo box." || echo "No demo box to remove."
    rm -rf "$STATE"
    exit 0
    ;;
  up) ;;
  *) echo "usage: $0 [up [ansible-playbook options]|down]" >&2; exit 2 ;;
esac

scripts/setup-host.sh

mkdir -p "$STATE" && chmod 700 "$STATE"
if [ -n "${BOX_ADMIN_PASSWORD:-}" ]; then
  printf '%s' "$BOX_ADMIN_PASSWORD" > "$STATE/admin-password"
elif [ ! -s "$STATE/admin-password" ]; then
  python3 -c 'import secrets; print(secrets.token_urlsafe(12), end="")' > "$STATE/admin-password"
fi
chmod 600 "$STATE/admin-password"
BOX_ADMIN_PASSWORD=$(cat "$STATE/admin-password")
export BOX_ADMIN_PASSWORD

published=$(docker port "$NAME" 80/tcp 2>/dev/null | head -n1 || true)
if [ -n "$published" ] && [ "${published##*:}" != "$PORT" ]; then
  echo "The demo box already serves port ${published##*:}; run 'make demo-down' first to change BOX_PORT." >&2
  exit 1
fi
if [ -z "$(docker ps -aq --filter "name=^${NAME}$")" ]; then
  echo "==> Starting the demo box ($NAME) on 127.0.0.1:$PORT"
  # the same container as the tests' (.config/molecule/config.yml)
  mapfile -t PLATFORM_OPTIONS < <(.venv/bin/python -m classbox.container options)
  mapfile -t PLATFORM_COMMAND < <(.venv/bin/python -m classbox.container command)
  docker run -d --name "$NAME" "${PLATFORM_OPTIONS[@]}" "${DOCKER_ARGS[@]}" \
    $([ "${BOX_NETWORK:-}" = none ] && echo --network none || echo -p "127.0.0.1:$PORT:80") \
    "${PLATFORM_COMMAND[@]}" >/dev/null
else
  docker start "$NAME" >/dev/null
fi
for _ in $(seq 30); do
  state=$(docker exec "$NAME" systemctl is-system-running 2>/dev/null || true)
  case "$state" in running|degraded) break ;; esac
  sleep 1
done

echo "==> Provisioning the demo box with playbooks/site.yml"
.venv/bin/ansible-playbook -i inventory/demo/hosts.yml playbooks/site.yml "$@"

cat <<MSG

The demo box is ready:
  URL:      http://localhost:$PORT/jupyterhub/
  admin:    admin
  password: $BOX_ADMIN_PASSWORD   (kept in $STATE/admin-password)
Students sign up at http://localhost:$PORT/jupyterhub/hub/signup
Remove it with: make demo-down
MSG
