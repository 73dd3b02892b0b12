"""Issue 18, "Done when": the console as its people see it. Headless Chromium logs in as a desk
clerk (insurance_desk), a store manager and a business admin (tenant_admin) of the demo dealer
group, opens every entry of their side menu and fails on

- any answer of 400 or more (the page or anything it loads), or a page that sends them to the
  login screen;
- English words of the interface outside data (a word list: Add, Edit, Delete, Search, …, and
  any text that is a phrase of English words), in visible text, tooltips, placeholders, the
  options of select boxes and the confirm dialogs;
- raw values: `None`, `True`, `False`, `__None` anywhere, and in data cells an enumeration's
  stored value (`person`, `in_force`) or any lower_snake identifier; times shown with
  microseconds or as ISO `T` strings;
- at 390 px: a page wider than the screen, or a side menu that does not slide in from the menu
  button.

New pages join the walk through the menu. Screenshots of every page at 1366 and 390 px go to a
temporary folder, or to $CONSOLE_SCREENSHOTS when it is set (to look at them).

The walk is about what people see, not about the database: it runs once, in the suite's run on
the embedded default (SQLite), and is skipped in the PostgreSQL run to keep CI's time."""

from __future__ import annotations

import enum
import os
import re
from pathlib import Path

import pytest

from app.security import roles as r

pytestmark = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgresql"),
    reason="the console walk runs once, in the run on the embedded default (SQLite)",
)

PASSWORD = "Demo-Pass-2026"
WIDE, PHONE = 1366, 390
ROLES = {
    r.INSURANCE_DESK: "insurance.desk",
    r.STORE_MANAGER: "store.manager",
    r.TENANT_ADMIN: "tenant.admin",
}

# Words of an interface left in English (whole words, as shown).
ENGLISH = re.compile(
    r"\b(Add|Edit|Delete|Search|List|Show|Record|Records|Save|Back|Actions|Action|Filter|Filters|"
    r"Home|Logout|Login|Log in|Log out|Profile|None|True|False|Cancel|OK|Select|Submit|Yes|No|"
    r"Close|Next|Previous|Export|Import|Upload|Download|Name|Status|Welcome|Error|User|Users|"
    r"Role|Roles|Details|View|Create|Update|Remove|Confirm|Page|Total|Refresh|Reset|Clear|"
    r"Apply|Loading|Password|Username|Settings|Help|Menu|Language|Count|Date|Time|Type|Kind|"
    r"Active|Tenant|Customer|Customers|Vehicle|Vehicles|Policy|Policies|Order|Orders|Quote|"
    r"Document|Documents|Version|Versions|Published|Draft|Monitoring|Jobs|Cameras)\b"
)
# A phrase of English words (two or more), e.g. "Please choose", "Remove all items".
ENGLISH_PHRASE = re.compile(r"[A-Za-z][A-Za-z',.!?-]*( [A-Za-z',.!?()-]+)+")
# Names that are data although they look like identifiers: the test suite's own custom role
# (tests/app/conftest.py; a custom role is shown by its name).
DATA_NAMES = {"scope_probe"}
RAW = {"None", "True", "False", "__None", "null", "undefined", "NaN"}
SNAKE = re.compile(r"^[a-z]+(_[a-z]+)+$")  # in_force, dealer_group (ids with digits are data)
TIME_WITH_MICROSECONDS = re.compile(r"\d{2}:\d{2}:\d{2}\.\d+")
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

# Every text the page shows: (text, kind, where). Kind "code": identifiers shown as such
# (code, kbd, pre); "data": table cells, definition values, form values; "ui": the rest
# (headers, buttons, labels, menus, tooltips, options).
TEXTS_JS = """
() => {
  const found = [];
  const skip = "script, style, noscript, template";
  const code = "code, kbd, pre";
  const data = "td, dd, textarea, .dc-data";
  const kind = (el) => el.closest(code) ? "code" : el.closest(data) ? "data" : "ui";
  const modal = "#modal-confirm, #modal-alert";
  const visible = (el) => el.closest(modal) || (el.getClientRects().length > 0
      && getComputedStyle(el).visibility !== "hidden");
  const where = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) {
      parts.unshift(e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
        + (e.classList.length ? "." + [...e.classList].slice(0, 2).join(".") : ""));
    }
    return parts.join(" > ");
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.nodeValue.replace(/\\s+/g, " ").trim();
    const el = node.parentElement;
    if (!text || !el || el.closest(skip) || !visible(el)) continue;
    found.push([text, kind(el), where(el)]);
  }
  const attributes = ["title", "data-original-title", "placeholder", "aria-label"];
  for (const el of document.querySelectorAll(attributes.map((a) => `[${a}]`).join(","))) {
    if (!visible(el)) continue;
    for (const name of attributes) {
      const value = (el.getAttribute(name) || "").trim();
      if (value) found.push([value, "ui", where(el) + " @" + name]);
    }
  }
  for (const select of document.querySelectorAll("select")) {
    if (!visible(select)) continue;
    for (const option of select.options) {
      const text = option.text.trim();
      if (text) found.push([text, "ui", where(select) + " option"]);
    }
  }
  return found;
}
"""


def enum_values() -> set[str]:
    """The stored values of every enumeration of the app: shown raw, they are a bug."""
    values: set[str] = set()
    pending = list(enum.Enum.__subclasses__())
    while pending:
        kind = pending.pop()
        pending.extend(kind.__subclasses__())
        if kind.__module__.startswith("app."):
            values |= {str(member.value) for member in kind if isinstance(member.value, str)}
    return values


def problems_of(texts, raw_values: set[str]) -> list[str]:
    found = []
    for text, kind, where in texts:
        if kind == "code" or text in DATA_NAMES:
            continue
        raw = text in RAW or "__None" in text
        if raw or (kind == "data" and (SNAKE.match(text) or text in raw_values)):
            found.append(f"raw value {text!r} at {where}")
        elif kind == "ui" and (ENGLISH.search(text) or ENGLISH_PHRASE.fullmatch(text)):
            found.append(f"English {text!r} at {where}")
        if TIME_WITH_MICROSECONDS.search(text) or ISO_TIME.search(text):
            found.append(f"time not to the second {text!r} at {where}")
    return found


@pytest.fixture(scope="module")
def demo(app):
    result = app.test_cli_runner().invoke(args=["demo", "load", "--password", PASSWORD])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    kept = os.environ.get("CONSOLE_SCREENSHOTS")
    folder = Path(kept) if kept else tmp_path_factory.mktemp("console_shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def slug(url: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", url.split("//", 1)[-1].split("/", 1)[-1].lower()).strip("-")


def ids_of(app) -> dict[str, int]:
    from sqlalchemy import select

    from app.customers.models import Customer
    from app.extensions import db
    from app.security.models import DealerUser
    from app.tenancy.scope import system_scope, use_scope

    with use_scope(system_scope("tests")):
        desk = db.session.scalar(select(DealerUser).where(DealerUser.username == "insurance.desk"))
        customer = db.session.scalar(
            select(Customer.id).where(Customer.org_node_id == desk.org_node_id).limit(1)
        )
        return {"user": desk.id, "customer": customer}


def check_page(page, where: str, raw_values: set[str], failures: list[str]) -> None:
    failures.extend(f"{where}: {p}" for p in problems_of(page.evaluate(TEXTS_JS), raw_values))


def test_flask_appbuilder_screens_speak_chinese(app, live_server, browser, demo, shots):
    """Beyond the menu: a business admin's FAB screens (a user's page and forms, their own
    account and password, a record's form with an enumeration's select box, a list's filters,
    the confirm dialog), the 404 page, and the screens taken out (user groups, statistics)."""
    ids = ids_of(app)
    page = browser.new_page(viewport={"width": WIDE, "height": 900}, locale="zh-CN")
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(f"script error {error}"))
    page.goto(f"{live_server}/login/")
    page.fill("#username", ROLES[r.TENANT_ADMIN])
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    raw_values = enum_values()
    for path in (
        f"/users/show/{ids['user']}",
        f"/users/edit/{ids['user']}",
        "/users/add",
        "/users/userinfo/",
        "/resetmypassword/form",
        "/customerview/add",
        f"/customerview/edit/{ids['customer']}",
        f"/customerview/show/{ids['customer']}",
    ):
        response = page.goto(live_server + path)
        assert response is not None and response.status == 200, path
        page.screenshot(path=str(shots / f"fab-{slug(path)}-{WIDE}.png"), full_page=True)
        check_page(page, path, raw_values, failures)

    # A list's filters: "添加筛选条件", a column, its operations and an enumeration's values.
    page.goto(live_server + "/orgnodeview/list/")
    page.click("text=搜索")
    page.click("#filter_form .dropdown-toggle")
    page.click("#filter_form a.filter[name=kind]")
    page.wait_for_selector("#filter_form table.filters select")
    check_page(page, "filters", raw_values, failures)
    # A delete button asks in Chinese; cancelling keeps the record.
    page.goto(f"{live_server}/users/list/")
    page.locator("a[id^=btn-delete-]").first.click()
    page.wait_for_selector("#modal-confirm", state="visible")
    check_page(page, "confirm dialog", raw_values, failures)
    page.screenshot(path=str(shots / f"fab-confirm-{WIDE}.png"))
    page.click("#modal-confirm button[data-dismiss=modal]")

    for path in ("/no-such-page/", "/groups/list/", "/userstatschartview/chart/"):
        response = page.goto(live_server + path)
        assert response is not None and response.status == 404, path
        assert page.locator(".dc-error-code").inner_text() == "404"
        check_page(page, path, raw_values, failures)
    page.screenshot(path=str(shots / f"fab-404-{WIDE}.png"))
    page.close()
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("role", list(ROLES))
def test_every_menu_page_is_chinese_with_labels_at_both_widths(
    app, live_server, browser, demo, shots, role
):
    username = ROLES[role]
    page = browser.new_page(viewport={"width": WIDE, "height": 900}, locale="zh-CN")
    failures: list[str] = []
    page.on(
        "response",
        lambda response: (
            response.status >= 400 and failures.append(f"{response.status} {response.url}")
        ),
    )
    page.on("pageerror", lambda error: failures.append(f"script error {error}"))
    page.goto(f"{live_server}/login/")
    failures.extend(f"login page: {p}" for p in problems_of(page.evaluate(TEXTS_JS), set()))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)

    links = page.eval_on_selector_all(
        "#dc-sidebar a[href]", "links => links.map(a => [a.href, a.textContent.trim()])"
    )
    assert len(links) >= 4, links  # the home page and at least a few screens
    raw_values = enum_values()
    for number, (url, label) in enumerate(links):
        page.set_viewport_size({"width": WIDE, "height": 900})
        response = page.goto(url)
        where = f"{label} ({url})"
        if response is None or response.status >= 400:
            failures.append(f"{where}: answered {response.status if response else 'nothing'}")
            continue
        if "/login" in page.url:
            failures.append(f"{where}: sent to the login page")
            continue
        page.wait_for_load_state("load")
        name = f"{role}-{number:02d}-{slug(url) or 'home'}"
        page.screenshot(path=str(shots / f"{name}-{WIDE}.png"), full_page=True)
        failures.extend(f"{where}: {p}" for p in problems_of(page.evaluate(TEXTS_JS), raw_values))

        page.set_viewport_size({"width": PHONE, "height": 844})
        overflow = page.evaluate("document.documentElement.scrollWidth") - PHONE
        if overflow > 1:
            failures.append(f"{where}: {overflow}px wider than a {PHONE}px phone")
        page.screenshot(path=str(shots / f"{name}-{PHONE}.png"), full_page=True)

    # On a phone the side menu is out of sight until the menu button brings it in.
    sidebar = page.locator("#dc-sidebar")
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0
    page.click("[data-dc-nav-toggle]")
    page.wait_for_function(
        "() => document.querySelector('#dc-sidebar').getBoundingClientRect().left >= 0"
    )
    page.screenshot(path=str(shots / f"{role}-menu-open-{PHONE}.png"))
    page.click("[data-dc-nav-close]", position={"x": 350, "y": 400})
    page.wait_for_function(
        "() => document.querySelector('#dc-sidebar').getBoundingClientRect().right <= 0"
    )
    page.close()
    assert not failures, f"{username} ({len(failures)} problems):\n" + "\n".join(failures)


def card_values(html: str) -> dict[str, str]:
    """The home page's figures: label → value."""
    pairs = re.findall(
        r'dc-card-label">([^<]+)</div>\s*<div class="dc-card-value">([^<]+)</div>', html
    )
    return {label.strip(): value.strip() for label, value in pairs}


def test_home_page_figures_are_the_users_own_and_the_menu_hides_empty_groups(app, client, demo):
    """The home page counts in the user's scope (a store's desk: its store; the business admin:
    the group), lists only policies it may open, and a role without a group's screens does not
    see the group."""
    import datetime

    from sqlalchemy import func, select

    from app.extensions import db
    from app.policies.labels import PolicyStatus
    from app.policies.models import Policy
    from app.security.models import DealerUser
    from app.tenancy.scope import system_scope, use_scope
    from tests.app.conftest import login

    with use_scope(system_scope("tests")):
        desk = db.session.scalar(select(DealerUser).where(DealerUser.username == "insurance.desk"))
        in_force = select(func.count()).where(Policy.status == PolicyStatus.IN_FORCE)
        at_store = db.session.scalar(in_force.where(Policy.org_node_id == desk.org_node_id))
        in_tenant = db.session.scalar(in_force.where(Policy.tenant_id == desk.tenant_id))
        today = datetime.date.today()
        elsewhere = db.session.scalars(
            select(Policy.policy_no).where(
                Policy.tenant_id == desk.tenant_id,
                Policy.org_node_id != desk.org_node_id,
                Policy.status == PolicyStatus.IN_FORCE,
                Policy.end_date >= today,
            )
        ).all()
    assert 0 < at_store < in_tenant and elsewhere

    login(client, "insurance.desk", PASSWORD)
    html = client.get("/").get_data(as_text=True)
    assert card_values(html)["有效保单"] == f"{at_store:,}"
    assert not any(number in html for number in elsewhere)
    assert "华东汽车集团" in html and "上海浦东大众4S店" in html  # the top bar's org position
    client.get("/logout/")

    login(client, "tenant.admin", PASSWORD)
    assert card_values(client.get("/").get_data(as_text=True))["有效保单"] == f"{in_tenant:,}"
    client.get("/logout/")

    login(client, "hr", PASSWORD)  # 人事: users and the organisation, nothing of the desk
    html = client.get("/").get_data(as_text=True)
    sidebar = html.split('id="dc-sidebar"', 1)[1].split("</nav>", 1)[0]
    assert 'data-dc-group="System"' in sidebar
    assert 'data-dc-group="Issuing"' not in sidebar and 'data-dc-group="Policies"' not in sidebar
    assert "有效保单" not in html  # no policy figures without the policy list


def test_the_menu_is_filed_by_business_group():
    """arrange_menu: categories become the groups of navigation.GROUPS in their order (aliases
    and FAB's "Security" included), retired screens leave, everyday entries lead, an unknown key
    keeps its entries after the known groups, and an entry without a category stays."""
    from types import SimpleNamespace

    from flask_appbuilder.menu import Menu

    from app.web import navigation

    def view(name):
        return type(name, (), {})()

    menu = Menu()
    menu.add_link("List Users", category="Security", baseview=view("DealerUserView"))
    menu.add_link("List Groups", category="Security", baseview=view("UserGroupModelView"))
    menu.add_link("Views/Menus", category="Security", baseview=view("ViewMenuModelView"))
    menu.add_link("Jobs", category="System", baseview=view("JobRecordView"))
    menu.add_link("Monitoring", category="System", baseview=view("MonitoringView"))
    menu.add_link("Widgets", category="Gadgets", baseview=view("WidgetView"))
    menu.add_link("Customers", category="Customers", baseview=view("CustomerView"))
    menu.add_link("Quote and issue", category="Issuing", baseview=view("DeskView"))
    menu.add_link("Loose", baseview=view("LooseView"))
    navigation.arrange_menu(SimpleNamespace(menu=menu, update_perms=False))

    filed = {item.name: [child.name for child in item.childs] for item in menu.get_list()}
    assert list(filed) == ["Issuing", "System", "Gadgets", "Loose"]
    assert filed["Issuing"] == ["Quote and issue", "Customers"]
    assert filed["System"] == ["Monitoring", "List Users", "Jobs", "Views/Menus"]
    assert "List Groups" not in filed["System"]
