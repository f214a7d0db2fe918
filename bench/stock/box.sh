#!/usr/bin/env bash
# A second box beside the demo box, set up as the usual guides do it, for
# comparison (make bench-stock): it is provisioned by site.yml, then our
# changes are taken back out: the stock hub configuration (jupyterhub_config.py
# here), JupyterLab's default settings, every request through the proxy (none
# of JupyterLab's files from nginx, nothing compressed), and the venv without
# the rfc3987 pin and without the fixes the box carries for its packages.
set -euo pipefail
cd "$(dirname "$0")/../.."
export BOX_NAME=classbox-stock BOX_PORT=${BOX_PORT:-8090} BOX_STATE_DIR=.demo-stock
scripts/demo.sh up -e web_hub_pages_upstream= -e web_static_files=false
docker exec -i "$BOX_NAME" sh -c 'cat > /etc/jupyterhub/stock_config.py' < bench/stock/jupyterhub_config.py
docker exec "$BOX_NAME" sh -ec '
  /opt/jupyterhub/venv/bin/pip uninstall --yes --quiet rfc3987
  cd "$(/opt/jupyterhub/venv/bin/python -c "import sysconfig; print(sysconfig.get_path(\"purelib\"))")"
  for fix in /opt/jupyterhub/fixes/*.patch; do
    git apply --reverse --exclude="*/tests/*" --exclude="tests/*" "$fix"
    # the package a fix is for begins its name, as in the jupyterhub role
    package=$(basename "$fix"); /opt/jupyterhub/venv/bin/python -m compileall -q "${package%%-*}"
  done
  cd /
  rm -f /opt/jupyterhub/venv/etc/jupyter/jupyter_server_config.json /opt/jupyterhub/venv/etc/jupyter/labconfig/page_config.json
  sed -i "s/^\( *\)gzip on;/\1gzip off;/" /etc/nginx/nginx.conf
  nginx -t -q && systemctl reload nginx
  mkdir -p /etc/systemd/system/jupyterhub.service.d
  printf "[Service]\nExecStart=\nExecStart=/opt/jupyterhub/venv/bin/jupyterhub --config=/etc/jupyterhub/stock_config.py\n" \
    > /etc/systemd/system/jupyterhub.service.d/stock.conf
  systemctl daemon-reload
  systemctl restart jupyterhub'
for _ in $(seq 60); do
  curl -fs "http://127.0.0.1:$BOX_PORT/jupyterhub/hub/api" >/dev/null && break
  sleep 1
done
echo "The stock box answers at http://127.0.0.1:$BOX_PORT/jupyterhub/ (remove it: docker rm -f $BOX_NAME)"
