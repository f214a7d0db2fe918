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
     websocket, as JupyterLab does: the kernel's start and CODE's run;
  6. with --browser (and --servers), the browser's view: JupyterLab's first
     load is recorded once in Chromium (bench/lab_load.py), and in step 2 each
     student, once their server is ready, makes those requests (six at a time,
     as a browser) and is "usable", then opens a notebook's session and runs
     6*7 over its kernel's websocket: the "first result". With --container,
     every figure is also given in F = N x (one bcrypt check on the box) /
     (the box's cores), the least time N logins can take on that box.

  python bench/classroom_bench.py --url http://127.0.0.1:8080 -n 30 [--servers] [--container NAME]
      [--browser] [--imports "import pandas"]
"""

import argparse
import json
import re
import secrets
import subprocess
import threading
import time

import lab_load
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
        self.usable_seconds = None
        self.result_seconds = None
        self.lab_bytes = 0
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
        """As a browser: the spawn page, its progress stream until "ready", then JupyterLab's page."""
        answer = self.session.get(f"{self.hub}/hub/spawn", timeout=300)
        if answer.status_code >= 500:
            self.errors.append(f"spawn answered {answer.status_code}")
            return
        if "/spawn-pending/" in answer.url and not self.wait_for_progress(start + timeout - time.monotonic()):
            return
        lab = self.session.get(f"{self.hub}/user/{self.name}/lab", timeout=60)
        if lab.status_code == 200 and f"/user/{self.name}/lab" in lab.url:
            self.ready_seconds = time.monotonic() - start
        else:
            self.errors.append(f"lab answered {lab.status_code}")

    def wait_for_progress(self, timeout):
        """Read the spawn page's event stream (one request, as its EventSource) until the server is ready."""
        xsrf = cookie(self.session, "_xsrf", "/hub")
        url = f"{self.hub}/hub/api/users/{self.name}/server/progress"
        try:
            with self.session.get(url, params={"_xsrf": xsrf}, stream=True, timeout=max(timeout, 1)) as stream:
                for line in stream.iter_lines():
                    if not line.startswith(b"data:"):
                        continue
                    event = json.loads(line[5:])
                    if event.get("ready"):
                        return True
                    if event.get("failed"):
                        self.errors.append(f"the server failed to start: {event.get('message')}")
                        return False
        except requests.RequestException as error:
            self.errors.append(f"progress: {error}")
            return False
        self.errors.append("the progress stream ended before the server was ready")
        return False

    def open_lab(self, start, load, timeout):
        """JupyterLab's first load (the recorded requests), then a notebook's first result."""
        self.lab_bytes, errors = lab_load.replay(self.hub, self.session, self.name, load, timeout)
        self.errors.extend(errors)
        if errors:
            return
        self.usable_seconds = time.monotonic() - start
        try:
            _kernel, _run, output = run_in_a_new_kernel(
                self.hub, self, "6*7", timeout, notebook=f"{self.name}-first.ipynb"
            )
        except Exception as error:  # a benchmark reports every failure, whatever its kind
            self.errors.append(f"first result: {error}")
            return
        if output != "42":
            self.errors.append(f"first result: 6*7 gave {output!r}")
            return
        self.result_seconds = time.monotonic() - start


def run_in_a_new_kernel(hub, student, code, timeout, notebook=None):
    """Start a kernel (the server's default: the course's), run code over its websocket.
    With notebook, the kernel is a new notebook's session, as JupyterLab opens one.
    Returns (seconds until the kernel answers, seconds the code took, the result's text)."""
    headers = {"X-XSRFToken": cookie(student.session, "_xsrf", f"/user/{student.name}")}
    begun = time.monotonic()
    api = f"{hub}/user/{student.name}/api"
    if notebook:
        session = {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}}
        answer = student.session.post(f"{api}/sessions", json=session, headers=headers, timeout=timeout)
        answer.raise_for_status()
        kernel_id = answer.json()["kernel"]["id"]
    else:
        answer = student.session.post(f"{api}/kernels", json={}, headers=headers, timeout=timeout)
        answer.raise_for_status()
        kernel_id = answer.json()["id"]
    url = f"{api}/kernels/{kernel_id}/channels".replace("http://", "ws://", 1)
    cookies = "; ".join(f"{c.name}={c.value}" for c in student.session.cookies)
    channel = websocket.create_connection(url, cookie=cookies, timeout=timeout)
    try:
        result = []

        def ask(msg_type, content):
            msg_id = secrets.token_hex(8)
            header = {"msg_id": msg_id, "msg_type": msg_type, "session": msg_id, "version": "5.3"}
            message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
            channel.send(json.dumps(message))
            # Done when both came: the shell's reply, and iopub's "idle" (after any result).
            reply, idle = None, False
            while reply is None or not idle:
                answer = json.loads(channel.recv())
                if answer.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                if answer["msg_type"] == "execute_result":
                    result.append(answer["content"]["data"].get("text/plain", ""))
                elif answer["msg_type"] == "status":
                    idle = answer["content"]["execution_state"] == "idle"
                elif answer["msg_type"].endswith("_reply"):
                    reply = answer
            return reply

        ask("kernel_info_request", {})
        started = time.monotonic() - begun
        reply = ask("execute_request", {"code": code, "silent": False, "store_history": False})
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r}: {reply['content'].get('ename')}")
        return started, time.monotonic() - begun - started, "".join(result)
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
    parser.add_argument(
        "--browser", action="store_true", help="also JupyterLab's first load and a first result (with --servers)"
    )
    args = parser.parse_args()
    if not re.match(r"^http://(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$", args.url):
        parser.error("--url must be a loopback address: benchmarks talk only to this machine")
    if args.browser and not args.servers:
        parser.error("--browser needs --servers")
    hub = f"{args.url}/jupyterhub"
    run = secrets.token_hex(2)
    students = [Student(hub, f"bench{run}n{i:02d}") for i in range(args.n)]

    for student in students:
        student.sign_up()
    floor = login_floor(args.container, args.n) if args.container else None
    load = record_lab_load(hub, f"bench{run}rec", args.timeout) if args.browser else None

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
            if load and student.ready_seconds is not None:
                student.open_lab(start, load, args.timeout)

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
    mode = "login + servers" + (" + JupyterLab + first result" if load else "") if args.servers else "login only"
    print(f"students: {args.n}  mode: {mode}")
    if floor:
        print(
            f"F       {floor['F']:6.2f} s   = {args.n} x {floor['bcrypt']:.3f} s (one bcrypt check)"
            f" / {floor['cores']} cores"
        )

    def line(label, values, count=False):
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        in_f = f"   p95 {p95 / floor['F']:4.1f} F" if floor else ""
        done = f"   {len(values)}/{args.n}" if count else ""
        print(f"{label:7} p50 {p50:6.2f} s   p95 {p95:6.2f} s{in_f}{done}")

    line("login", logins)
    if args.servers:
        line("ready", readies, count=True)
    if load:
        line("usable", [s.usable_seconds for s in students if s.usable_seconds is not None], count=True)
        line("result", [s.result_seconds for s in students if s.result_seconds is not None], count=True)
        replayed = [s.lab_bytes for s in students if s.usable_seconds is not None]
        print(
            f"first load  {load.first_bytes / 1e6:5.2f} MB in {load.first_requests} requests (Chromium's count,"
            f" login page included); replayed: {percentile(replayed, 0.5) / 1e6:5.2f} MB per student"
        )
        print(f"second load {load.second_bytes / 1e6:5.3f} MB in {load.second_requests} requests (the next lesson)")
    print(f"errors  {len(errors)}")
    for error in errors[:5]:
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
        stop_servers(hub, students + ([load.recorder] if load else []))


def login_floor(container, students):
    """F: the least time `students` logins take on the box, from one bcrypt check there (median of 5)."""
    script = (
        "import bcrypt, statistics, time\n"
        "hashed = bcrypt.hashpw(b'bench-koala-42', bcrypt.gensalt())\n"
        "times = []\n"
        "for _ in range(5):\n"
        "    begun = time.perf_counter(); bcrypt.checkpw(b'bench-koala-42', hashed)\n"
        "    times.append(time.perf_counter() - begun)\n"
        "print(statistics.median(times))"
    )
    # The hub's own Python and bcrypt (NativeAuthenticator's cost: bcrypt's default, 12).
    check = subprocess.run(
        ["docker", "exec", container, "/opt/jupyterhub/venv/bin/python", "-c", script],
        capture_output=True,
        text=True,
        check=True,
    )
    cores = int(
        subprocess.run(["docker", "exec", container, "nproc"], capture_output=True, text=True, check=True).stdout
    )
    bcrypt_seconds = float(check.stdout)
    return {"bcrypt": bcrypt_seconds, "cores": cores, "F": students * bcrypt_seconds / cores}


def record_lab_load(hub, name, timeout):
    """One more student, whose server is started, and JupyterLab's load as Chromium makes it for them."""
    recorder = Student(hub, name)
    recorder.sign_up()
    start = time.monotonic()
    if not recorder.log_in(start):
        raise SystemExit(f"the recording student could not log in: {recorder.errors}")
    recorder.start_server(start, timeout)
    if recorder.ready_seconds is None:
        raise SystemExit(f"the recording student's server did not start: {recorder.errors}")
    load = lab_load.record(hub, name, PASSWORD)
    load.recorder = recorder
    return load


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
