"""Ticket synthesis for the scale data: one ticket's whole life as rows, at random.

`TicketMaker.make` appends a ticket, its events (following the domain's transition
table) and its photo records to row lists laid out as `TICKET_COLUMNS`, `EVENT_COLUMNS`
and `PHOTO_COLUMNS`; `bench.scale_data.generate` writes them in chunks.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from app.domain.categories import Category
from app.domain.tickets import Action, Status, apply

CATEGORY_WEIGHTS = {
    Category.FLOODING: 18,
    Category.BLOCKED_PASSAGE: 16,
    Category.BULKY_WASTE: 20,
    Category.ROAD_DAMAGE: 12,
    Category.MANHOLE_COVER: 5,
    Category.STREET_LIGHT: 9,
    Category.FALLEN_TREE: 4,
    Category.TRAFFIC_SIGNAL: 4,
    Category.SAFETY_HAZARD: 7,
    Category.OTHER: 5,
}
DESCRIPTIONS = {
    Category.FLOODING: ["路口积水很深，电动车过不去", "下水道堵了，路面积水", "地库入口积水"],
    Category.BLOCKED_PASSAGE: ["消防通道被车堵住", "楼道堆满杂物", "人行道被占用"],
    Category.BULKY_WASTE: ["路边有人丢了旧沙发", "大件垃圾没人清运", "垃圾桶满了溢出"],
    Category.ROAD_DAMAGE: ["路面破损有个大坑", "人行道地砖松动", "路面塌陷"],
    Category.MANHOLE_COVER: ["井盖缺失，很危险", "井盖破损"],
    Category.STREET_LIGHT: ["路灯不亮，晚上很黑", "路灯杆歪了"],
    Category.FALLEN_TREE: ["大树倒了挡住车道", "树枝断了挂在电线上"],
    Category.TRAFFIC_SIGNAL: ["红绿灯不亮", "信号灯坏了"],
    Category.SAFETY_HAZARD: ["广告牌松动有坠落隐患", "电线裸露"],
    Category.OTHER: ["这里有点问题，请看看", "有人在路边摆摊"],
}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 7, 9, 9, 8, 8, 9, 8, 8, 8, 9, 9, 8, 7, 5, 4, 3, 2]
NOTES = ["已到现场查看", "已联系相关部门", "正在处理，预计明天完成", "已通知物业"]
RESULTS = ["已处理完毕", "积水已排除", "杂物已清理", "已修复", "已联系养护单位处理"]

TICKET_COLUMNS = (
    "id",
    "status",
    "category",
    "description",
    "lat",
    "lng",
    "place",
    "grid_id",
    "area_id",
    "assignee_id",
    "reporter_id",
    "created_at",
    "updated_at",
    "claimed_at",
    "resolved_at",
    "closed_at",
)
EVENT_COLUMNS = (
    "id",
    "ticket_id",
    "at",
    "action",
    "actor_openid",
    "actor_role",
    "from_status",
    "to_status",
    "note",
    "message_key",
)
PHOTO_COLUMNS = ("id", "ticket_id", "media_id", "pic_url", "sender_openid", "created_at")


class TicketMaker:
    """Makes tickets over `days` days ending at `end`, in `places` (grids), by `rider_ids`."""

    def __init__(self, rng, places, rider_ids, *, end, days, open_share):
        self.rng = rng
        self.places = places
        # A few busy grids: weights from a Pareto tail.
        self.place_weights = list(_cumulative(rng.paretovariate(1.2) for _ in places))
        self.rider_ids = rider_ids
        self.rider_weights = list(_cumulative(rng.paretovariate(1.5) for _ in rider_ids))
        self.end = end
        self.days = days
        self.open_share = open_share
        self.categories = list(CATEGORY_WEIGHTS)
        self.category_weights = list(_cumulative(CATEGORY_WEIGHTS.values()))
        self.storm_days = set(rng.sample(range(days), k=max(days // 30, 1)))

    def _when(self, open_ticket: bool) -> datetime:
        rng = self.rng
        if open_ticket:
            # Open tickets are mostly recent: most a few days old, some stuck for weeks.
            age = rng.expovariate(1 / 4) if rng.random() < 0.85 else rng.uniform(7, 60)
            day = int(min(age, self.days - 1))
        else:
            day = rng.randrange(self.days)
        hour = rng.choices(range(24), cum_weights=_HOURS)[0]
        when = self.end - timedelta(days=day)
        when = when.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60))
        if when > self.end:
            when -= timedelta(days=1)
        return when

    def make(self, ids: dict[str, int], rows_t: list, rows_e: list, rows_p: list) -> None:
        rng = self.rng
        is_open = rng.random() < self.open_share
        created = self._when(is_open)
        day = (self.end - created).days
        category = rng.choices(self.categories, cum_weights=self.category_weights)[0]
        if day in self.storm_days and rng.random() < 0.6:
            category = Category.FLOODING
        place = self.places[rng.choices(range(len(self.places)), cum_weights=self.place_weights)[0]]
        grid_id, lat, lng, grid_name, worker_id, worker_openid = place
        rider_id = self.rider_ids[
            rng.choices(range(len(self.rider_ids)), cum_weights=self.rider_weights)[0]
        ]
        rider_openid = f"rider-{rider_id}"
        tid = ids["tickets"]
        ids["tickets"] += 1
        description = rng.choice(DESCRIPTIONS[category])

        status: Status | None = None
        at = created
        times = {"claimed": None, "resolved": None, "closed": None}
        assignee = (worker_id, worker_openid, grid_id)

        def event(action: Action, actor: str | None, role: str, note: str = "") -> None:
            nonlocal status
            t = apply(status, action, note)
            rows_e.append(
                (
                    ids["ticket_events"],
                    tid,
                    at,
                    action.value,
                    actor,
                    role,
                    t.from_status.value if t.from_status else None,
                    t.to_status.value,
                    note,
                    f"msg:{tid}:{ids['ticket_events']}" if role == "rider" else None,
                )
            )
            ids["ticket_events"] += 1
            status = t.to_status
            if status is Status.CLAIMED and times["claimed"] is None:
                times["claimed"] = at
            if status is Status.RESOLVED:
                times["resolved"] = at
            if status is Status.CLOSED:
                times["closed"] = at

        def later(mean_hours: float) -> bool:
            """Move the clock on; False when that would pass the end of the year."""
            nonlocal at
            step = timedelta(hours=rng.expovariate(1 / mean_hours) + 0.02)
            if at + step >= self.end:
                return False
            at += step
            return True

        event(Action.CREATE, rider_openid, "rider", f"派往 {grid_name}")
        if rng.random() < 0.15 and later(0.1):
            event(Action.ADD_INFO, rider_openid, "rider", f"描述「{description}」")
        # Open tickets stop somewhere along the way; closed ones run to the end.
        if is_open:
            target = rng.choices(
                [Status.ASSIGNED, Status.CLAIMED, Status.REOPENED], weights=[35, 55, 10]
            )[0]
        else:  # a few resolved ones still await the rider's verdict
            target = Status.RESOLVED if rng.random() < 0.03 else Status.CLOSED
        reopened = target is Status.REOPENED or (target is Status.CLOSED and rng.random() < 0.04)
        rounds = 2 if reopened else 1
        for round_no in range(rounds):
            if target is Status.ASSIGNED:
                break
            if round_no == 0 and rng.random() < 0.05 and later(1.0):
                new = self.places[rng.randrange(len(self.places))]
                event(Action.TRANSFER, assignee[1], "grid_worker", f"转派至 {new[3]}")
                assignee = (new[4], new[5], new[0])
            if not later(2.0):
                break
            event(Action.CLAIM, assignee[1], "grid_worker")
            for _ in range(rng.choice((0, 0, 1, 1, 2))):
                if later(6.0):
                    event(Action.NOTE, assignee[1], "grid_worker", rng.choice(NOTES))
            if target is Status.CLAIMED or (target is Status.REOPENED and round_no == 1):
                break
            if not later(20.0):
                break
            event(Action.RESOLVE, assignee[1], "grid_worker", rng.choice(RESULTS))
            if target is Status.RESOLVED or not later(8.0):
                break
            if round_no == 0 and reopened:
                event(Action.REOPEN, rider_openid, "rider", "问题仍未解决")
                if target is Status.REOPENED and rng.random() < 0.5:
                    break
                continue
            event(Action.CONFIRM, rider_openid, "rider")
        if rng.random() < 0.6:
            for _ in range(rng.choice((1, 1, 2))):
                media = f"media-{ids['ticket_photos']}"
                rows_p.append(
                    (
                        ids["ticket_photos"],
                        tid,
                        media,
                        f"http://mmbiz.qpic.cn/mmbiz_jpg/{media}/0",
                        rider_openid,
                        created,
                    )
                )
                ids["ticket_photos"] += 1
        jitter = 0.0008
        rows_t.append(
            (
                tid,
                status.value,
                category.value,
                description,
                lat + rng.uniform(-jitter, jitter) / 2,
                lng + rng.uniform(-jitter, jitter) / 2,
                f"{grid_name}附近",
                assignee[2],
                assignee[2],
                assignee[0],
                rider_id,
                created,
                at,
                times["claimed"],
                times["resolved"],
                times["closed"],
            )
        )


_HOURS = list(
    (lambda w: [sum(w[: i + 1]) for i in range(len(w))])(HOUR_WEIGHTS)  # cumulative
)


def _cumulative(weights: Iterable[float]) -> Iterable[float]:
    total = 0.0
    for w in weights:
        total += w
        yield total
