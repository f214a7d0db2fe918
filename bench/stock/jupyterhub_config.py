# JupyterHub as the usual guides set it up, for `make bench-stock`: stock
# NativeAuthenticator (bcrypt on the event loop), stock SystemdSpawner, default
# timeouts, and JupyterLab's default settings. Only the addresses (nginx and the
# proxy of the box) and the limits are the box's, so the two compare.
c = get_config()  # noqa: F821

c.JupyterHub.bind_url = "http://127.0.0.1:8000/jupyterhub/"
c.JupyterHub.hub_bind_url = "http://127.0.0.1:8081"
c.ConfigurableHTTPProxy.should_start = False
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:8001"
c.JupyterHub.db_url = "sqlite:////var/lib/jupyterhub/stock.sqlite"
c.JupyterHub.cookie_secret_file = "/var/lib/jupyterhub/jupyterhub_cookie_secret"
c.JupyterHub.cleanup_servers = False

c.JupyterHub.authenticator_class = "native"
c.Authenticator.allow_all = True
c.NativeAuthenticator.open_signup = True

c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.dynamic_users = True
c.SystemdSpawner.extra_paths = ["/opt/jupyterhub/venv/bin"]
c.Spawner.cmd = ["/opt/jupyterhub/venv/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.mem_limit = "1G"
c.Spawner.cpu_limit = 1.0
