"""`gridbot stations ...`: the rest stations riders are offered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from app.cli_common import fail, print_json, start
from app.db import unit_of_work

stations_app = typer.Typer(help="Rest stations (暖新驿站) for riders.", no_args_is_help=True)


@stations_app.command("import")
def stations_import(
    path: Annotated[
        Path, typer.Argument(help="A GeoJSON FeatureCollection of Points, or a CSV with lat,lng.")
    ],
) -> None:
    """Create or update (by code) stations from GeoJSON or CSV; all or nothing."""
    from app.services.errors import ServiceError
    from app.services.riders.station_import import MAX_BYTES, import_stations, parse_file

    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        fail(f"cannot read {path}: {exc}")
    try:
        rows = parse_file(raw, path.name)
        with unit_of_work(start().sessions) as session:
            result = import_stations(session, rows, now=datetime.now(UTC))
    except ServiceError as exc:
        fail(f"refused, nothing imported: {exc.message}")
    typer.echo(f"imported {path}: {result.created} created, {result.updated} updated")


@stations_app.command("list")
def stations_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per station.")] = False,
) -> None:
    """Every station: code, name, hours, amenities."""
    from models import Station

    with start().sessions() as session:
        rows = [
            {
                "code": s.code,
                "name": s.name,
                "address": s.address,
                "lat": s.lat,
                "lng": s.lng,
                "hours": s.hours,
                "amenities": s.amenities.split(),
                "phone": s.phone,
            }
            for s in session.scalars(select(Station).order_by(Station.code))
        ]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        typer.echo(f"{r['code']}\t{r['name']}\t{r['hours']}\t{' '.join(r['amenities'])}")


riders_app = typer.Typer(help="Riders: points and leaderboards.", no_args_is_help=True)


@riders_app.command("top")
def riders_top(
    area: Annotated[str, typer.Option(help="Area code (a street, a district, ...).")],
    month: Annotated[str, typer.Option(help="Local month, e.g. 2026-11.")],
    limit: Annotated[int, typer.Option(help="How many riders to list.")] = 10,
) -> None:
    """The month's leaderboard of an area: riders by points for reports that led to action."""
    from zoneinfo import ZoneInfo

    from app.services.errors import ServiceError
    from app.services.riders import recognition

    runtime = start()
    settings = runtime.settings
    try:
        with runtime.sessions() as session:
            found, lines = recognition.top(
                session,
                area_code=area,
                month=month,
                tz=ZoneInfo(settings.timezone),
                rules=runtime.policy().points,
                limit=limit,
            )
    except ServiceError as exc:
        fail(exc.message)
    typer.echo(f"{found.name}（{found.code}）{month} 骑手积分榜")
    if not lines:
        typer.echo("本月还没有骑手得分。")
    for line in lines:
        typer.echo(f"{line.rank:>3}. {line.rider}  {line.points} 分")
