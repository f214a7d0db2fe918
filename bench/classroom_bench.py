#!/usr/bin/env python3
"""Class start on a box: N students log in at the same moment (and start their servers).

A benchmark, not a test: it prints figures and asserts nothing. It talks to a
running box over HTTP as browsers do, from this machine (loopback only):

  1. sign up N new students (untimed);
  2. at one moment all of them log in; with --servers each then starts their
     server and waits until their JupyterLab answers;
  3. meanwhile a probe asks the hub's API every 50 ms;
  4. with --container, the memory of one idle student (server + one kernel);
  5. with --imports CODE (and --servers), all of them at one moment start a
     kernel of the course's Python and run CODE in it over the kernel's
     websocket, as JupyterLab does: the kernel's start and CODE's run.

  python bench/classroom_bench.py --url http://127.0.0.1:8080 -n 30 [--servers] [--container NAME]
      [--imports "import pandas"]
"""

import argparse
import json
import re
import secrets
import subprocess
import threading
import time

import requests
import websocket

PASSWORD = "bench-koala-42"


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def xsrf_of(session, url):
    session.get(url, timeout=30)
    return next((c.value for c in session.cookies if c.name == "_xsrf"), "")


class Student:
    def __init__(self, hub, name):
        self.hub, self.name = hub, name
        self.session = requests.Session()
        self.login_seconds = None
        self.ready_seconds = None
        self.errors = []

    def sign_up(self):
        xsrf = xsrf_of(self.session, f"{self.hub}/hub/signup")
        form = {
            "_xsrf": xsrf,
            "username": self.name,
            "signup_password": PASSWORD,
            "signup_password_confirmation": PASSWORD,
        }
        answer = self.session.post(f"{self.hub}/hub/signup", data=form, timeout=60)
        if "successful" not in answer.text:
            raise RuntimeError(f"signup of {self.name} failed: {answer.status_code}")
        self.login_xsrf = xsrf_of(self.session, f"{self.hub}/hub/login")

    def log_in(self, start):
        form = {"_xsrf": self.login_xsrf, "username": self.name, "password": PASSWORD}
        answer = self.session.post(f"{self.hub}/hub/login", data=form, allow_redirects=False, timeout=300)
        self.login_seconds = time.monotonic() - start
        if answer.status_code != 302:
            self.errors.append(f"login answered {answer.status_code}")
            return False
        return True

    def start_server(self, start, timeout):
        answer = self.session.get(f"{self.hub}/hub/spawn", timeout=300)
        if answer.status_code >= 500:
            self.errors.append(f"spawn answered {answer.status_code}")
            return
        deadline = start + timeout
        # Between "started" and "route added" the model briefly shows no server
        # and no pending spawn: only a state that lasts 3 s is a failure.
        seen_gone = 0
        while time.monotonic() < deadline:
            model = self.session.get(f"{self.hub}/hub/api/user", timeout=30).json()
            server = model.get("servers", {}).get("")
            if server and server.get("ready"):
                lab = self.session.get(f"{self.hub}/user/{self.name}/lab", timeout=60)
                if lab.status_code == 200 and f"/user/{self.name}/lab" in lab.url:
                    self.ready_seconds = time.monotonic() - start
                else:
                    self.errors.append(f"lab answered {lab.status_code}")
                return
            seen_gone = seen_gone + 1 if not server and not model.get("pending") else 0
            if seen_gone >= 6:
                self.errors.append("the server failed to start")
                return
            time.sleep(0.5)
        self.errors.append(f"not ready after {timeout} s")


def run_in_a_new_kernel(hub, student, code, timeout):
    """Start a kernel (the server's default: the course's), run code over its websocket.
    Returns (seconds until the kernel answers, seconds the code took), from the request."""
    headers = {"X-XSRFToken": cookie(student.session, "_xsrf", f"/user/{student.name}")}
    begun = time.monotonic()
    kernel = student.session.post(f"{hub}/user/{student.name}/api/kernels", json={}, headers=headers, timeout=timeout)
    kernel.raise_for_status()
    url = f"{hub}/user/{student.name}/api/kernels/{kernel.json()['id']}/channels".replace("http://", "ws://", 1)
    cookies = "; ".join(f"{c.name}={c.value}" for c in student.session.cookies)
    channel = websocket.create_connection(url, cookie=cookies, timeout=timeout)
    try:

        def ask(msg_type, content):
            msg_id = secrets.token_hex(8)
            header = {"msg_id": msg_id, "msg_type": msg_type, "session": msg_id, "version": "5.3"}
            message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
            channel.send(json.dumps(message))
            while True:
                reply = json.loads(channel.recv())
                if reply.get("parent_header", {}).get("msg_id") == msg_id and reply["msg_type"].endswith("_reply"):
                    return reply

        ask("kernel_info_request", {})
        started = time.monotonic() - begun
        reply = ask("execute_request", {"code": code, "silent": False, "store_history": False})
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r}: {reply['content'].get('ename')}")
        return started, time.monotonic() - begun - started
    finally:
        channel.close()


def probe(hub, stop, latencies):
    while not stop.is_set():
        begun = time.monotonic()
        try:
            requests.get(f"{hub}/hub/api", timeout=10)
            latencies.append(time.monotonic() - begun)
        except requests.RequestException:
            latencies.append(10.0)
        time.sleep(max(0.0, 0.05 - (time.monotonic() - begun)))


def cookie(session, name, path_part):
    return next((c.value for c in session.cookies if c.name == name and path_part in (c.path or "")), "")


def idle_student_memory(container, hub, student):
    """Memory of one student's unit (server + one idle kernel), in MB, read on the box.

    RSS counts the pages of Python and its libraries in full in every process;
    PSS splits each shared page among the processes that map it, so the PSS of
    all processes adds up to the memory in use. The cgroup's figure is what
    systemd shows and what the student's memory limit counts (it includes
    reclaimable file cache).
    """
    headers = {"X-XSRFToken": cookie(student.session, "_xsrf", f"/user/{student.name}")}
    student.session.post(
        f"{hub}/user/{student.name}/api/kernels", json={"name": "python3"}, headers=headers, timeout=60
    )
    time.sleep(15)  # let the kernel settle
    unit = f"jupyter-{student.name}-singleuser.service"
    script = (
        f"cg=$(systemctl show -p ControlGroup --value {unit}); "
        "cat /sys/fs/cgroup/systemd$cg/cgroup.procs /sys/fs/cgroup$cg/cgroup.procs 2>/dev/null "
        "| sort -u | while read p; do awk '/^(Rss|Pss):/ {print $1, $2}' /proc/$p/smaps_rollup; done; "
        f"echo Cgroup: $(( $(systemctl show -p MemoryCurrent --value {unit}) / 1024 ))"
    )
    out = subprocess.run(
        ["docker", "exec", container, "sh", "-c", script], capture_output=True, text=True
    ).stdout.split("\n")
    kinds = [line.split() for line in out if line.strip()]
    return {
        kind.rstrip(":"): sum(int(kb) for k, kb in kinds if k == kind) / 1024 if kinds else float("nan")
        for kind in ("Rss:", "Pss:", "Cgroup:")
    }


def stop_servers(hub, students):
    for student in students:
        headers = {"X-XSRFToken": cookie(student.session, "_xsrf", "/hub")}
        student.session.delete(f"{hub}/hub/api/users/{student.name}/server", headers=headers, timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("-n", type=int, default=30)
    parser.add_argument("--servers", action="store_true", help="also start every student's server")
    parser.add_argument("--timeout", type=int, default=300, help="seconds a server may take")
    parser.add_argument("--container", help="the box's container, to measure an idle student's memory")
    parser.add_argument("--imports", help="code every student runs at once in a new kernel (with --servers)")
    args = parser.parse_args()
    if not re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$", args.url):
        parser.error("--url must be a loopback address: benchmarks talk only to this machine")
    hub = f"{args.url}/jupyterhub"
    run = secrets.token_hex(2)
    students = [Student(hub, f"bench{run}n{i:02d}") for i in range(args.n)]

    for student in students:
        student.sign_up()

    stop, latencies = threading.Event(), []
    prober = threading.Thread(target=probe, args=(hub, stop, latencies), daemon=True)
    prober.start()
    time.sleep(1)
    barrier = threading.Barrier(len(students))

    def lesson(student):
        barrier.wait()
        start = time.monotonic()
        if student.log_in(start) and args.servers:
            student.start_server(start, args.timeout)

    threads = [threading.Thread(target=lesson, args=(s,)) for s in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    prober.join()

    logins = [s.login_seconds for s in students if s.login_seconds is not None]
    readies = [s.ready_seconds for s in students if s.ready_seconds is not None]
    errors = [f"{s.name}: {e}" for s in students for e in s.errors]
    print(f"students: {args.n}  mode: {'login + servers' if args.servers else 'login only'}")
    print(f"login   p50 {percentile(logins, 0.5):6.2f} s   p95 {percentile(logins, 0.95):6.2f} s")
    if args.servers:
        print(
            f"ready   p50 {percentile(readies, 0.5):6.2f} s   p95 {percentile(readies, 0.95):6.2f} s"
            f"   ready {len(readies)}/{args.n}"
        )
    print(f"errors  {len(errors)}")
    for error in errors[:10]:
        print(f"  {error}")
    ms = [1000 * x for x in latencies]
    print(
        f"probe   p50 {percentile(ms, 0.5):6.0f} ms  p95 {percentile(ms, 0.95):6.0f} ms"
        f"  max {max(ms):6.0f} ms  ({len(ms)} requests)"
    )
    if args.container and args.servers and readies:
        ready_student = next(s for s in students if s.ready_seconds is not None)
        memory = idle_student_memory(args.container, hub, ready_student)
        print(
            f"idle student (server + 1 kernel): cgroup {memory['Cgroup']:.0f} MB, PSS {memory['Pss']:.0f} MB,"
            f" RSS {memory['Rss']:.0f} MB (with {len(readies)} servers running)"
        )
    if args.imports and args.servers:
        imports(hub, [s for s in students if s.ready_seconds is not None], args.imports, args.timeout)
    if args.servers:
        stop_servers(hub, students)


def imports(hub, students, code, timeout):
    """Every ready student, at one moment, starts a kernel and runs code in it."""
    barrier, results, errors = threading.Barrier(len(students)), [], []

    def lesson(student):
        barrier.wait()
        try:
            results.append(run_in_a_new_kernel(hub, student, code, timeout))
        except Exception as error:  # a benchmark reports every failure, whatever its kind
            errors.append(f"{student.name}: {error}")

    threads = [threading.Thread(target=lesson, args=(s,)) for s in students]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kernels, runs = [r[0] for r in results], [r[1] for r in results]
    print(f"{len(students)} new kernels at once, then {code!r} in each:")
    print(f"kernel  p50 {percentile(kernels, 0.5):6.2f} s   p95 {percentile(kernels, 0.95):6.2f} s")
    print(f"code    p50 {percentile(runs, 0.5):6.2f} s   p95 {percentile(runs, 0.95):6.2f} s   errors {len(errors)}")
    for error in errors[:5]:
        print(f"  {error}")


if __name__ == "__main__":
    main()
