"""A class in one paste: names in, approved accounts with readable passwords out.

The teacher pastes a class list on the Students page (`handlers.AddClassHandler`)
or gives one to `playbooks/accounts.yml`, which runs `classbox-accounts` on the
box. Both go through `create_accounts`, so a name is refused by the same checks
as at signup (`ClassroomAuthenticator.signup_problem`), an existing account is
left as it is (its password unchanged), and a name twice in the list is
created once.

A list is one name per line, or a table exported from a school system (CSV,
TSV or semicolons) whose first row names a name column (`parse`). A name
becomes a username by `to_username`'s rule. Passwords are three short common
words and two digits (`new_password`): about 31 bits, easy to type on a tablet.
They are shown once, on the printed slips, and never stored or logged in clear.

On the controller's side (`playbooks/accounts.yml`), on the box:

    classbox-accounts --db-url sqlite:////var/lib/jupyterhub/jupyterhub.sqlite \
        --address http://box.lan/jupyterhub/ --must-change < class.csv

prints JSON: {"created": [{"username", "password"}], "existing": [names],
"refused": [{"line", "text", "reason"}], "sheet_html": the slips, one page}.
"""

import argparse
import asyncio
import csv
import dataclasses
import json
import math
import re
import secrets
import sys
import unicodedata

import jinja2
from nativeauthenticator.orm import UserInfo
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from . import TEMPLATE_DIR, passwords, rules, usernames

# One paste from the Students page at most: its passwords are made while the
# teacher waits (about 0.25 s each per core, four times that on a Raspberry Pi).
MAX_NAMES = 200
MAX_CHARACTERS = 100_000

# Header cells that name the column of names, the best first: a column of
# usernames wins over one of full names.
NAME_HEADERS = ["username", "user name", "login", "user", "name", "full name", "student", "student name"]
# A table with no name column but a first and a last name: both, joined.
FIRST_LAST_HEADERS = ("first name", "last name")

# Short, common, friendly words (4-6 lowercase letters): no homophones, no
# British/American spelling pairs, nothing a class would giggle at.
WORDS = tuple(
    """
    acorn actor album alpine amber anchor apple apron arrow atlas attic autumn badge bagel baker
    bamboo banana banjo barley basket beach beacon beaver bench bike birch bison blaze blend bloom
    bottle bounce brave bread breeze brick bridge bright brook broom brush bubble bucket buddy bugle
    bunny butter button cabin cactus camel camera canal candle canoe canyon carrot castle cedar
    cello cereal chalk cherry chess chirp cinema circle clever cliff climb clock cloud clover coast
    cobalt cocoa comet comic copper coral cotton crab crane crayon crisp crown crumb cube curly
    daisy dance delta denim dingo donkey dove dragon drawer dream drift drum eagle easel echo elbow
    ember engine falcon fern ferry fiddle finch flame flint flute forest fossil frog frost fudge
    galaxy garden gecko gentle giant ginger glide globe glove goose grape gravel green guitar hammer
    hazel helmet heron hiking hippo hollow honey hoop hopper igloo iris island ivory jacket jaguar
    jelly jewel jigsaw jolly judo juice jumbo jungle kayak kettle kitten kiwi koala ladder lagoon
    lemon lemur lilac lime linen lizard locket lotus lucky lunar magnet mango maple marble marsh
    meadow mellow melon meteor mitten mocha monkey moose mosaic muffin mural museum nectar needle
    nest noble noodle nugget nutmeg oasis ocean olive onion orange orbit otter oyster paddle palace
    panda paper parade parrot pasta peach pebble pencil pepper piano pickle picnic pigeon pillow
    pilot pine pirate pizza planet plaza pocket polar pony poppy potato puffin puppy puzzle quail
    quartz quest quill rabbit radar radio raft ranger raven ribbon ridge river robin robot rocket
    rover ruby saddle salad salmon sandal satin scarf season seesaw shadow shark shell shiny silver
    skate sketch sled sleepy slope snail snowy sock sofa solar spark spice spider spoon spring
    sprout squid stable stamp starry stone stork storm studio sugar summit sunny sunset swan swift
    table tango teapot tennis tent tiger timber toast tomato topaz torch tower trail train trout
    tulip tundra turnip turtle tutor twig umpire valley velvet violin voyage waffle wagon walnut
    walrus wander warm whale wheat wheel willow window winter wizard wombat yellow zebra zigzag
    zipper
    """.split()
)
# Digits 2-9 only: no 0 to take for an O, no 1 for an l.
DIGITS = "23456789"
PASSWORD_BITS = 3 * math.log2(len(WORDS)) + 2 * math.log2(len(DIGITS))

# Letters that NFKD leaves whole: written the way a name is usually typed in ASCII.
LETTERS = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})

NO_LETTERS = f"No username can be made from this name: write one for this student in the list. {usernames.RULE}"
NO_NAMES = "Paste the names of your students, one per line (or a table exported as CSV with a name column)."
EXISTING = "already has an account, left as it is"


def _header_key(cell: str) -> str:
    return re.sub(r"[\s_-]+", " ", cell.strip().lower())


def _name_columns(cells: list[str]) -> list[int] | None:
    """The column(s) that hold the names, when `cells` is a header row; else None."""
    keys = [_header_key(cell) for cell in cells]
    for header in NAME_HEADERS:
        if header in keys:
            return [keys.index(header)]
    if all(header in keys for header in FIRST_LAST_HEADERS):
        return [keys.index(header) for header in FIRST_LAST_HEADERS]
    return None


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter))


def _header(line: str):
    """(delimiter, name columns) when `line` is a table's header row, (None, [0]) when it
    is the header of a plain list ("Name"), None when it is a name."""
    for delimiter in "\t;,":
        if delimiter in line:
            columns = _name_columns(_cells(line, delimiter))
            if columns is not None:
                return delimiter, columns
    return (None, [0]) if _name_columns([line]) is not None else None


def parse(text: str) -> list[tuple[int, str]]:
    """(line number, name as written) for each name in a pasted list; blank lines are skipped.

    When the first line is a header with a name column (NAME_HEADERS, in
    cells separated by tabs, semicolons or commas), the rest is a table and
    the names are in that column. Otherwise each line is one name.
    """
    lines = text.removeprefix("\ufeff").replace("\x00", "").splitlines()
    numbered = [(number, line.strip()) for number, line in enumerate(lines, start=1) if line.strip()]
    if not numbered:
        return []
    header = _header(numbered[0][1])
    if header is None:
        return numbered
    delimiter, columns = header
    if delimiter is None:
        return numbered[1:]
    found = []
    for number, line in numbered[1:]:
        cells = _cells(line, delimiter)
        name = " ".join(cells[column].strip() for column in columns if column < len(cells)).strip()
        if name:
            found.append((number, name))
    return found


def read_paste(text: str) -> tuple[list[tuple[int, str]], str | None]:
    """The names in a paste from the Students page, and why it cannot be added at once (or None)."""
    if len(text) > MAX_CHARACTERS:
        return [], f"This list is too long: at most {MAX_NAMES} names at a time. Add the class in parts."
    lines = parse(text)
    if not lines:
        return lines, NO_NAMES
    if len(lines) > MAX_NAMES:
        return lines, f"At most {MAX_NAMES} names at a time, and this list has {len(lines)}: add the class in parts."
    return lines, None


def to_username(name: str) -> str:
    """The username made from a name as written: "Zoë O'Brien" -> "zoe-obrien".

    Lowercase, accents stripped (ß to ss and the like), white space and dots
    become '-', every other character that RULE does not allow is dropped, and
    no '-' or '_' is left at either end. A name that already is a username
    stays as it is.
    """
    text = unicodedata.normalize("NFKD", name.lower().translate(LETTERS))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[\s.]+", "-", text.strip())
    text = re.sub(r"[^a-z0-9_-]", "", text)
    return usernames.normalize(re.sub(r"-{2,}", "-", text).strip("-_"))


def new_password(min_length: int = 8, acceptable=lambda password: True) -> str:
    """Three words and two digits, like maple-river-42-cloud (more words if min_length asks)."""
    for _ in range(100):
        words = [secrets.choice(WORDS) for _ in range(3)]
        parts = [*words[:2], secrets.choice(DIGITS) + secrets.choice(DIGITS), words[2]]
        while len("-".join(parts)) < min_length:
            parts.append(secrets.choice(WORDS))
        password = "-".join(parts)
        if acceptable(password):
            return password
    raise ValueError(f"no password of words is accepted (a minimum length of {min_length}?)")


@dataclasses.dataclass
class Result:
    """What became of each name: created (with its password), existing, or refused with a sentence."""

    created: list[tuple[str, str]] = dataclasses.field(default_factory=list, repr=False)  # (username, password)
    existing: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)  # (line, as written, username)
    refused: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)  # (line, as written, why)
    busy: bool = False  # some passwords could not be made: the box was busy

    def not_created(self) -> list[tuple[int, str, str]]:
        """(line, as written, why) for every line without a new account, in the list's order."""
        left = [(line, text, f"'{name}' {EXISTING}.") for line, text, name in self.existing]
        return sorted(left + self.refused)

    def summary(self) -> str:
        """The counts, for a log: never a password."""
        return f"{len(self.created)} created, {len(self.existing)} existing, {len(self.refused)} refused"


def sort_out(authenticator, lines):
    """The names to create and the existing accounts [(line, as written, username)], and the refusals."""
    new, existing, refused = [], [], []
    seen = {}  # username -> the line that named it first
    for number, text in lines:
        name = to_username(text)
        if not name:
            refused.append((number, text, NO_LETTERS))
            continue
        if name in seen:
            refused.append((number, text, f"'{name}' is already on line {seen[name]} of this list."))
            continue
        seen[name] = number
        if name not in authenticator.admin_users and authenticator.has_account(name):
            existing.append((number, text, name))  # untouched: its password stays
        elif problem := authenticator.signup_problem(name):
            refused.append((number, text, problem))
        else:
            new.append((number, text, name))
    return new, existing, refused


async def create_accounts(authenticator, lines, must_change: bool) -> Result:
    """Approved accounts with new passwords for the names in `lines` (from `parse`).

    `authenticator` is a ClassroomAuthenticator: its database, its checks, its
    must-change markers. Passwords are hashed in passwords.QUEUE, off the event
    loop and no more at once than it has threads, so that logins still get
    their turn; a name the full queue turns away is refused with rules.BUSY
    (and `busy` set). With `must_change`, each new student must choose their
    own password at first login.
    """
    new, existing, refused = sort_out(authenticator, lines)
    result = Result(existing=existing, refused=refused)
    turns = asyncio.Semaphore(passwords.QUEUE.threads)

    def acceptable(password):
        return authenticator.password_problem(password, password) is None

    async def create(number, text, name):
        password = new_password(authenticator.minimum_password_length, acceptable)
        try:
            async with turns:
                hashed = await passwords.QUEUE.hash(name, password)
        except passwords.Busy:
            result.busy = True
            return None, (number, text, rules.BUSY)
        problem = authenticator.signup_problem(name)  # taken while the password was hashed?
        if problem:
            return None, (number, text, problem)
        if must_change:  # first: an account never exists without its marker
            authenticator.set_must_change(name, True)
        authenticator.db.add(UserInfo(username=name, password=hashed, is_authorized=True))
        authenticator.db.commit()
        return (name, password), None

    for account, refusal in await asyncio.gather(*(create(*entry) for entry in new)):
        if account:
            result.created.append(account)
        else:
            result.refused.append(refusal)
    result.refused.sort()
    return result


def slips(result: Result) -> list[dict]:
    return [{"username": name, "password": password} for name, password in result.created]


def render_slips(result: Result, address: str, must_change: bool) -> str:
    """The slips as a page of their own (templates/class-slips.html), for the controller."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR), autoescape=True)
    template = environment.get_template("class-slips.html")
    return template.render(standalone=True, slips=slips(result), address=address, must_change=must_change)


# --- classbox-accounts: the same from the controller -------------------------------


def hub_authenticator(db, args):
    """A ClassroomAuthenticator on `db` with the hub's settings, for its checks and markers."""
    from .authenticator import ClassroomAuthenticator  # here: it imports this module (through handlers)

    return ClassroomAuthenticator(
        db=db,
        add_new_table=False,
        admin_users=set(args.admins),
        reserved_usernames=set(args.reserved),
        state_root=args.state_root,
        minimum_password_length=args.min_password_length,
        check_common_password=True,
        must_change_dir=args.must_change_dir,
    )


def main(argv=None) -> int:
    from .authenticator import MUST_CHANGE_DIR  # here: it imports this module (through handlers)

    parser = argparse.ArgumentParser(description="Create a class's accounts from the names on standard input.")
    parser.add_argument("--db-url", required=True, help="SQLAlchemy URL of the hub database")
    parser.add_argument("--address", default="", help="the hub's address, printed on each slip")
    parser.add_argument(
        "--must-change",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="each new student chooses their own password at first login",
    )
    parser.add_argument("--must-change-dir", default=MUST_CHANGE_DIR, help="the hub's must_change_dir")
    parser.add_argument("--min-password-length", type=int, default=8)
    parser.add_argument("--state-root", default="/var/lib", help="the hub's state_root")
    parser.add_argument("--admins", nargs="*", default=[], help="the admin accounts' names")
    parser.add_argument("--reserved", nargs="*", default=[], help="the hub's reserved_usernames")
    args = parser.parse_args(argv)
    lines = parse(sys.stdin.read())
    if not lines:
        print(f"classbox-accounts: {NO_NAMES}", file=sys.stderr)
        return 2
    engine = create_engine(args.db_url)
    UserInfo.__table__.create(engine, checkfirst=True)
    with Session(engine) as db:
        result = asyncio.run(create_accounts(hub_authenticator(db, args), lines, args.must_change))
    answer = {
        "created": slips(result),
        "existing": [name for _, _, name in result.existing],
        "refused": [{"line": line, "text": text, "reason": reason} for line, text, reason in result.refused],
        "sheet_html": render_slips(result, args.address, args.must_change),
    }
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
