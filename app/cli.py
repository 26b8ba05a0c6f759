"""The `gridbot` command line (Typer)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from app.bootstrap import Database, shown
from app.cli_api import api_key_app
from app.cli_common import fail as _fail
from app.cli_common import print_json as _print_json
from app.cli_common import require_free_port
from app.cli_common import settings as _settings
from app.cli_common import start as _start
from app.cli_console import console_app, console_tour
from app.cli_directory import grids_list, staff_list
from app.cli_ops import inbox_app, jobs_app, outbox_app
from app.cli_riders import riders_app, stations_app
from app.cli_tickets import tickets_app
from app.cli_webhooks import webhooks_app
from app.db import unit_of_work

app = typer.Typer(
    help="gridbot: riders report, grid workers fix, nothing is lost.", no_args_is_help=True
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
grids_app = typer.Typer(help="Grids and areas.", no_args_is_help=True)
staff_app = typer.Typer(help="Staff records and invites.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(grids_app, name="grids")
app.add_typer(staff_app, name="staff")
grids_app.command("list")(grids_list)
staff_app.command("list")(staff_list)
app.add_typer(tickets_app, name="tickets")
app.add_typer(jobs_app, name="jobs")
app.add_typer(outbox_app, name="outbox")
app.add_typer(inbox_app, name="inbox")
app.add_typer(console_app, name="console")
app.add_typer(stations_app, name="stations")
app.add_typer(riders_app, name="riders")
app.add_typer(api_key_app, name="api-key")
app.add_typer(webhooks_app, name="webhooks")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply migrations up to the newest schema."""
    runtime = _start(Database.CREATE)
    runtime.close()
    typer.echo(f"database at head: {shown(runtime.settings.database_url)}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes; each also drains the outbox (SKIP LOCKED).")
    ] = 1,
) -> None:
    """Run the webhook server with the configured settings, migrating first."""
    import uvicorn

    from app.web.main import create_app

    require_free_port(host, port, "serve")
    runtime = _start(Database.EXISTING)
    runtime.close()  # the app opens its own engine, with the server's timeouts
    if workers > 1:
        # Each worker process builds its own app (and engine, scheduler) from the
        # environment; see README "Several processes".
        uvicorn.run(
            "app.web.main:create_app",
            factory=True,
            workers=workers,
            # A worker still importing on a loaded machine is not dead: uvicorn's 5 s
            # default killed and restarted such children in a loop.
            timeout_worker_healthcheck=60,
            host=host,
            port=port,
            log_level="info",
        )
        return
    web_app = create_app(runtime.settings, policy=runtime.policy)
    uvicorn.run(web_app, host=host, port=port, log_level="info")


@app.command()
def demo(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Run the embedded demo: SQLite, a bundled district with staff, the sandbox channel."""
    import uvicorn

    from app.demo import tour
    from app.demo.seed import TOUR, seed
    from app.web.main import create_app

    require_free_port(host, port, "demo")
    runtime = _start(Database.CREATE, channel="sandbox")
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    if "public_url" not in runtime.settings.model_fields_set:
        # Photo links (and console links) point at this demo, on the port it listens on.
        runtime.settings = runtime.settings.model_copy(update={"public_url": url})
    with unit_of_work(runtime.sessions) as session:
        seeded = seed(session)
        accounts = tour.accounts(session)
    typer.echo(f"gridbot demo: database {shown(runtime.settings.database_url)}")
    typer.echo("demo data loaded." if seeded else "demo data already present.")
    typer.echo(TOUR.format(url=url))
    typer.echo("Every account of the demo (gridbot chat --as <account>):\n")
    typer.echo("\n".join("  " + line for line in accounts) + "\n")
    typer.echo(console_tour(runtime.sessions, url))
    runtime.close()
    web_app = create_app(runtime.settings, policy=runtime.policy)
    uvicorn.run(web_app, host=host, port=port, log_level="warning")


@app.command()
def chat(
    as_: Annotated[str, typer.Option("--as", help="The openid to play, e.g. rider-1.")],
    url: Annotated[str, typer.Option(help="The gridbot server.")] = "http://127.0.0.1:8000",
) -> None:
    """Play WeChat in the terminal: send text, /photo FILE, /loc LAT LNG [LABEL]."""
    from app.terminal import run_chat

    run_chat(_settings(), openid=as_, url=url.rstrip("/"))


@grids_app.command("import")
def grids_import(
    path: Annotated[Path, typer.Argument(help="A GeoJSON FeatureCollection.")],
) -> None:
    """Create or update areas and grids from GeoJSON; all or nothing."""
    from app.services.directory.grid_geojson import ImportLimits, parse_collection
    from app.services.directory.grids import import_geojson
    from app.services.errors import ServiceError

    runtime = _start()
    settings = runtime.settings
    limits = ImportLimits(
        max_bytes=settings.grid_import_max_bytes,
        max_features=settings.grid_import_max_features,
        max_vertices=settings.grid_import_max_vertices,
    )
    try:
        with path.open("rb") as f:
            raw = f.read(limits.max_bytes + 1)  # one byte over tells it is too large
    except OSError as exc:
        _fail(f"cannot read {path}: {exc}")
    try:
        data = parse_collection(raw, limits)
        with unit_of_work(runtime.sessions) as session:
            result = import_geojson(session, data, limits)
    except ServiceError as exc:
        _fail(f"refused, nothing imported: {exc.message}")
    moved = f", {result.moved} moved with their parent" if result.moved else ""
    typer.echo(f"imported {path}: {result.created} created, {result.updated} updated{moved}")


RoleOpt = Annotated[
    str,
    typer.Option(
        help="grid_worker, community_lead, street_lead, supervisor, or department "
        "(a department's liaison; --name is the department's name)"
    ),
]
AreaOpt = Annotated[str, typer.Option(help="The code of the area they cover.")]


def _require_wecom(settings) -> None:
    """A WeCom userid on the official account alone would make that person's notices
    undeliverable: refuse until the WeCom app is configured (the sandbox stores them)."""
    if settings.channel != "sandbox" and not settings.wecom_corp_id:
        _fail(
            "GRIDBOT_WECOM_CORP_ID is not set: configure the WeCom app first "
            "(README, Staff on WeCom), or this person's notices could not be sent"
        )


@staff_app.command("add")
def staff_add(
    name: Annotated[str, typer.Option(help="Their name as shown to riders.")],
    role: RoleOpt,
    area: AreaOpt,
    openid: Annotated[str, typer.Option(help="Their WeChat openid.")] = "",
    wecom_userid: Annotated[
        str, typer.Option(help="Their WeCom (企业微信) userid: notices then go to WeCom.")
    ] = "",
    backup: Annotated[bool, typer.Option(help="A backup worker, after the primary.")] = False,
) -> None:
    """Add a staff member whose openid or WeCom userid is already known."""
    from app.services.directory import people
    from app.services.errors import ServiceError

    if not openid and not wecom_userid:
        _fail("需要 --openid 或 --wecom-userid（至少一个）")
    runtime = _start()
    if wecom_userid:
        _require_wecom(runtime.settings)
    try:
        with unit_of_work(runtime.sessions) as session:
            staff = people.add_staff(
                session,
                name=name,
                role=role,
                area_code=area,
                openid=openid,
                wecom_userid=wecom_userid,
                priority=int(backup),
            )
            typer.echo(f"added {staff.name} ({staff.role}) for {staff.area.code} {staff.area.name}")
    except ServiceError as exc:
        _fail(exc.message)


@staff_app.command("invite")
def staff_invite(
    role: Annotated[
        str,
        typer.Option(
            help="grid_worker, community_lead, street_lead, supervisor, or department "
            "(a department's liaison; --name is the department's name). Not with --staff."
        ),
    ] = "",
    area: Annotated[str, typer.Option(help="The code of the area they cover.")] = "",
    name: Annotated[str, typer.Option(help="Their name as shown to riders.")] = "",
    backup: Annotated[bool, typer.Option(help="A backup worker, after the primary.")] = False,
    staff: Annotated[
        str,
        typer.Option(
            help="For an existing staff member (number, openid or WeCom userid): the code "
            "binds the channel they send it from (WeChat or WeCom) to them."
        ),
    ] = "",
) -> None:
    """Make a one-time code; the person sends '绑定 <code>' in chat to bind their WeChat
    or WeCom account."""
    from app.services.directory import people, staff_channels
    from app.services.errors import ServiceError
    from models import utcnow

    if staff and (role or area or name or backup):
        _fail("--staff takes the person's role and area; leave out --role, --area, --name")
    if not staff and not (role and area):
        _fail("需要 --role 和 --area（新人员），或 --staff（已有人员绑定另一个渠道）")
    try:
        with unit_of_work(_start().sessions) as session:
            person = staff_channels.find_staff(session, staff) if staff else None
            invite = people.create_invite(
                session,
                role=role,
                area_code=area,
                name=name,
                priority=int(backup),
                now=utcnow(),
                for_staff=person,
            )
            code, expires = invite.code, invite.expires_at
    except ServiceError as exc:
        _fail(exc.message)
    typer.echo(code)
    typer.echo(f"send in chat: 绑定 {code}   (valid until {expires:%Y-%m-%d %H:%M} UTC)", err=True)


@staff_app.command("link")
def staff_link(
    staff: Annotated[
        str, typer.Option(help="The staff member: number (see `staff list`), openid or userid.")
    ],
    wecom_userid: Annotated[
        str, typer.Option(help="Their WeCom (企业微信) userid: notices then go to WeCom.")
    ],
) -> None:
    """Add or change an existing staff member's WeCom userid (one person on both channels)."""
    from app.services.directory import staff_channels
    from app.services.errors import ServiceError

    runtime = _start()
    _require_wecom(runtime.settings)
    try:
        with unit_of_work(runtime.sessions) as session:
            person = staff_channels.find_staff(session, staff)
            before = person.wecom_userid
            staff_channels.set_wecom_userid(session, person, wecom_userid)
            done = f"{person.name} (#{person.id}, {person.area.code} {person.area.name})"
            after = person.wecom_userid
    except ServiceError as exc:
        _fail(exc.message)
    if before == after:
        typer.echo(f"{done} is already on WeCom as {after}")
    elif before:
        typer.echo(f"{done}: WeCom userid {before} -> {after}; notices go to WeCom")
    else:
        typer.echo(f"{done} linked to WeCom userid {after}; notices go to WeCom")


@app.command()
def digest(
    area: Annotated[str, typer.Option(help="The code of the area (and everything under it).")],
    date: Annotated[
        str | None, typer.Option(help="The local day, YYYY-MM-DD; default yesterday.")
    ] = None,
    png: Annotated[Path | None, typer.Option(help="Also write the chart to this PNG.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """The daily digest of an area: the messages a supervisor gets, or its figures."""
    from datetime import date as Date
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from app.services.digest import digest_delivery
    from app.services.digest.digest_chart import render_chart
    from app.services.errors import ServiceError
    from models import utcnow

    runtime = _start()
    tz, now = ZoneInfo(runtime.settings.timezone), utcnow()
    try:
        day = Date.fromisoformat(date) if date else now.astimezone(tz).date() - timedelta(days=1)
    except ValueError:
        _fail(f"--date must be YYYY-MM-DD, not {date!r}")
    try:
        with runtime.sessions() as session:
            found = digest_delivery.for_area_code(session, area)
            rendered = digest_delivery.render(
                session, found, day, now=now, tz=tz, chart=render_chart if png else None
            )
    except ServiceError as exc:
        _fail(exc.message)
    if png is not None and rendered.chart is not None:
        png.write_bytes(rendered.chart)
        typer.echo(f"chart written to {png}", err=True)
    if as_json:
        _print_json(rendered.figures.to_json())
        return
    typer.echo("\n\n".join(rendered.messages))


def main() -> None:
    app()
