"""Reach a box that has no network at all, from this machine's loopback.

The offline test box runs in a container with no network interface but
loopback, so it has no port to publish. A Relay listens on 127.0.0.1:<port>
here and carries each connection into the container with `docker exec`, to a
small Python program there that connects to the box's own port 80. The bytes
pass unchanged (HTTP, websockets), and the box itself still has no network.
"""

import shutil
import socket
import subprocess
import threading

# Runs inside the box: stdin -> 127.0.0.1:<port> -> stdout.
INSIDE = """
import socket, sys, threading
box = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
def upstream():
    while data := sys.stdin.buffer.read1(65536):
        box.sendall(data)
    box.shutdown(socket.SHUT_WR)
threading.Thread(target=upstream, daemon=True).start()
while data := box.recv(65536):
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()
"""


class Relay:
    def __init__(self, container: str, port: int, box_port: int = 80):
        self.container, self.port, self.box_port = container, port, box_port
        self.listener = socket.create_server(("127.0.0.1", port))

    def start(self) -> "Relay":
        threading.Thread(target=self._accept, daemon=True, name="relay").start()
        return self

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            threading.Thread(target=self._carry, args=(client,), daemon=True).start()

    def _carry(self, client: socket.socket):
        inside = subprocess.Popen(
            [
                shutil.which("docker") or "docker",
                "exec",
                "-i",
                self.container,
                "python3",
                "-c",
                INSIDE,
                str(self.box_port),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=0,
        )

        def downstream():
            try:
                while data := inside.stdout.read(65536):
                    client.sendall(data)
            except OSError:
                pass
            finally:
                try:
                    client.shutdown(socket.SHUT_WR)
                except OSError:
                    pass

        reader = threading.Thread(target=downstream, daemon=True)
        reader.start()
        try:
            while data := client.recv(65536):
                inside.stdin.write(data)
        except OSError:
            pass
        finally:
            try:
                inside.stdin.close()
            except OSError:
                pass
        reader.join()
        inside.wait()
        client.close()
