"""The course's pages in the hub: the lessons for everyone, homework for the teacher.

- /hub/lessons: the lessons the teacher published, one link each. The list is
  the course role's lessons.json (classbox.lessons writes it); each link is
  relative to the hub's URL, so the page puts the hub's prefix in front.
- /hub/students/collect (POST): every student's copy of an assignment folder
  into one archive in the box's homework folder (classbox.homework, the same
  as playbooks/collect.yml), then a page to download it from
  /hub/students/collected/<archive>.
"""

import asyncio
import json
import os
import re
import socket
from pathlib import Path

from jupyterhub.handlers import BaseHandler
from jupyterhub.scopes import needs_scope
from tornado import web

from . import homework
from .handlers import TeacherPages
from .share_pages import send_file

ARCHIVE_NAME = re.compile(r"homework-[A-Za-z0-9._-]+\.tar\.gz")


def read_lessons(index_path: str) -> list[dict]:
    """The published lessons; none when nothing was published or the list is unreadable."""
    try:
        with open(index_path, encoding="utf-8") as index:
            lessons = json.load(index).get("lessons", [])
    except (OSError, ValueError, AttributeError):
        return []
    return [lesson for lesson in lessons if isinstance(lesson, dict) and {"title", "link"} <= lesson.keys()]


class LessonsHandler(BaseHandler):
    @web.authenticated
    async def get(self):
        prefix = self.hub.base_url.removesuffix("hub/")  # /jupyterhub/
        lessons = [
            {**lesson, "href": prefix + lesson["link"]} for lesson in read_lessons(self.authenticator.lessons_index)
        ]
        html = await self.render_template("lessons.html", lessons=lessons)
        self.finish(html)


class CollectHandler(TeacherPages):
    """Collect an assignment from every student (not the admins) into one archive to download."""

    @web.authenticated
    @needs_scope("admin:users")
    def get(self):
        """The form is on the Students page (a reload or a bookmark of this page lands there)."""
        self.redirect(f"{self.hub.base_url}students")

    @web.authenticated
    @needs_scope("admin:users")
    async def post(self):
        assignment = self.get_body_argument("assignment", "").strip()
        students = [account["name"] for account in self.accounts() if not account["admin"]]
        students_root = Path(self.authenticator.state_root) / "private"
        output_dir = Path(self.authenticator.homework_dir)
        try:
            # Reads every student's folder: in a thread, so that the hub keeps answering meanwhile.
            result = await asyncio.to_thread(
                homework.collect, students_root, students, assignment, output_dir, socket.gethostname()
            )
        except (ValueError, OSError) as error:
            await self.show(message=f"Nothing was collected: {error}", alert="alert-danger", status=400)
            return
        self.log.info("Homework %s collected by %s: %s", result["assignment"], self.current_user.name, result)
        html = await self.render_template(
            "collected.html",
            result=result,
            looked_in=homework.looked_in(assignment),
            archive_name=os.path.basename(result["archive"]),
            archive_dir=str(output_dir),
        )
        self.finish(html)


class CollectedHandler(TeacherPages):
    """Download an archive of collected homework."""

    @web.authenticated
    @needs_scope("admin:users")
    async def get(self, name):
        if not ARCHIVE_NAME.fullmatch(name):
            raise web.HTTPError(404)
        path = Path(self.authenticator.homework_dir) / name
        try:
            stream = open(path, "rb")  # noqa: SIM115 (send_file closes it)
        except FileNotFoundError:
            raise web.HTTPError(404) from None
        self.set_header("Content-Type", "application/gzip")
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        await send_file(self, stream)
