"""A reader of the register snapshot who tries to work out a small count: the attack of the
disclosure tests (ADR 0005; issue "A person was identified from the reports", point 2).

The reader holds every table of every snapshot page a commissioner can download for one day (the
whole ICB and each area, all ages and each age group: the page and its filter neighbours), and,
for a pair of days, the same for the day before, knowing that one person changed between the
two (their rating, a detail, their age group or area, or they joined or left), but not who.
They know the rules: "15" is 13 to 17, "<8" is 0 to 7, "[c]" and "[x]" could be anything.

Everything they know is a set of linear constraints on whole numbers: for each day and each
detail (diagnosis, ethnicity, ...), the count of people in each area, age group, value of that
detail and rating (a cube); the cubes of one day agree on the people in each area, age group
and rating; each published figure is a sum of cube cells within what is shown of it; and the
second day's cubes are the first day's plus one person's change. A count is *pinned* when the
smallest and largest whole-number values it can take under these constraints are equal.

To settle each count from 1 to 4, the reader first looks for a witness: a register that differs
by one person (moved, leaving or joining, on both days alike) and publishes figures within every
bound, with the count changed; the count then has two values and cannot be pinned. What no such
witness settles goes to integer programming (scipy.optimize.milp): a few solves with random
objectives over all of them at once, then, for what is left, the exact smallest and largest.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from dsr.models import RAG
from reports.disclosure import TOTAL, Publication, bounds
from reports.queries import AGE_GROUPS, RATINGS, dimensions

RAG_LABELS = {rating: RAG(rating).label for rating in RATINGS}
DETAILS = 3  # a record: (area, age group, rating, then one value for each dimension)


@dataclass
class Verdict:
    counts: int = 0  # counts from 1 to 4 tried
    witnessed: int = 0  # settled by a one-person witness
    by_milp: int = 0  # settled by integer programming
    pinned: list = field(default_factory=list)  # (day, figure key, true value)


class SnapshotReader:
    def __init__(self, areas: list[int], publications: list[Publication]) -> None:
        self.areas = areas
        self.days = publications
        self.domains = [[value for value, _ in d.choices] for d in dimensions()]
        self.index: dict[tuple, int] = {}
        for d, values in enumerate(self.domains):
            for a in range(len(areas)):
                for g in range(len(AGE_GROUPS)):
                    for v in range(len(values)):
                        for r in range(len(RATINGS)):
                            self.index[(d, a, g, v, r)] = len(self.index)
        self.size = len(self.index)
        self.keys = list(publications[0].figures)
        rows, columns = [], []
        for row, key in enumerate(self.keys):
            cells = self.cells(key)
            rows += [row] * len(cells)
            columns += cells
        self.figures = sparse.csr_matrix(
            (np.ones(len(rows)), (rows, columns)), shape=(len(self.keys), self.size)
        )
        self.low, self.high = [], []
        for publication in publications:
            limits = [bounds(publication.figures[key].text) for key in self.keys]
            self.low.append(np.array([low for low, _ in limits], dtype=float))
            self.high.append(np.array([np.inf if h is None else h for _, h in limits]))

    @property
    def pages(self) -> int:
        return len({key[0] for key in self.keys})

    @property
    def tables(self) -> int:
        return len({(key[0], key[1]) for key in self.keys})

    def cells(self, key: tuple) -> list[int]:
        """The cube cells a published figure adds up."""
        (areas, age), slug, row, column = key
        a_s = [self.areas.index(a) for a in sorted(areas)]
        g_s = [AGE_GROUPS.index(age)] if age else range(len(AGE_GROUPS))
        r_s = range(len(RATINGS)) if column == TOTAL else [RATINGS.index(column)]
        slugs = [d.slug for d in dimensions()]
        if slug in slugs:
            d = slugs.index(slug)
            values = self.domains[d]
            v_s = range(len(values)) if row == TOTAL else [values.index(row)]
        else:  # the age group and area tables: any one detail's cube, all its values
            d, v_s = 0, range(len(self.domains[0]))
            if slug == "local-authority" and row != TOTAL:
                a_s = [self.areas.index(row)]
            if slug == "age-group" and row != TOTAL:
                g_s = [AGE_GROUPS.index(row)]
        return [self.index[(d, a, g, v, r)] for a in a_s for g in g_s for v in v_s for r in r_s]

    def cube(self, record: tuple | None) -> np.ndarray:
        x = np.zeros(self.size)
        if record is not None:
            a, g = self.areas.index(record[0]), AGE_GROUPS.index(record[1])
            r = RATINGS.index(record[2])
            for d, values in enumerate(self.domains):
                x[self.index[(d, a, g, values.index(record[DETAILS + d]), r)]] = 1
        return x

    # --- Witnesses -----------------------------------------------------------------------------

    def moves(self, record: tuple) -> Iterable[tuple | None]:
        domains = [self.areas, AGE_GROUPS, RATINGS, *self.domains]
        for i, values in enumerate(domains):
            for value in values:
                if value != record[i]:
                    yield (*record[:i], value, *record[i + 1 :])
        yield None  # they leave

    def witnessed(self, registers: list[Counter]) -> set[tuple[int, int]]:
        """(day, figure) pairs of counts from 1 to 4 that a one-person witness settles."""
        common = registers[0].copy()
        for register in registers[1:]:
            common &= register
        trials = []  # (before, after, days it applies on)
        everyone = tuple(range(len(registers)))
        for day, register in enumerate(registers):
            # Someone who changed may have changed differently, but not so as to undo it: the
            # days still differ by one person.
            undone = {None} | set(registers[1 - day] - common) if len(registers) == 2 else set()
            for record in sorted(register, key=repr):
                sides = everyone if common[record] else (day,)
                if sides == everyone and day:
                    continue  # already tried from the first day
                others = [o for o in self.moves(record) if sides == everyone or o not in undone]
                trials += [(record, other, sides) for other in others]
                trials.append((None, record, everyone))  # someone like them joins
        values = [
            self.figures @ sum((self.cube(r) * n for r, n in register.items()), np.zeros(self.size))
            for register in registers
        ]
        found = set()
        for start in range(0, len(trials), 500):
            chunk = trials[start : start + 500]
            change = np.array([self.cube(after) - self.cube(before) for before, after, _ in chunk])
            deltas = (self.figures @ sparse.csr_matrix(change.T)).toarray()  # figures x trials
            ok = np.ones(len(chunk), dtype=bool)
            for day in range(len(registers)):
                applies = np.array([day in sides for _, _, sides in chunk])
                after = values[day][:, None] + deltas
                low, high = self.low[day][:, None], self.high[day][:, None]
                ok &= ((after >= low) & (after <= high)).all(0) | ~applies
            for t in np.flatnonzero(ok):
                moved = np.flatnonzero(deltas[:, t])
                for day in chunk[t][2]:
                    found.update((day, int(f)) for f in moved)
        return found

    # --- Integer programming -------------------------------------------------------------------

    def _agreement(self) -> sparse.csr_matrix:
        """For one day: the cubes agree on the people in each area, age group and rating."""
        rows, columns, values = [], [], []
        first = len(self.domains[0])
        for d in range(1, len(self.domains)):
            for a in range(len(self.areas)):
                for g in range(len(AGE_GROUPS)):
                    for r in range(len(RATINGS)):
                        row = (d - 1, a, g, r)
                        cells = [(self.index[(0, a, g, v, r)], 1.0) for v in range(first)]
                        cells += [
                            (self.index[(d, a, g, v, r)], -1.0) for v in range(len(self.domains[d]))
                        ]
                        for column, value in cells:
                            rows.append(row)
                            columns.append(column)
                            values.append(value)
        numbered = {row: i for i, row in enumerate(dict.fromkeys(rows))}
        return sparse.csr_matrix(
            (values, ([numbered[r] for r in rows], columns)), shape=(len(numbered), self.size)
        )

    def _program(self) -> tuple[LinearConstraint, np.ndarray, int]:
        """Every constraint the reader knows, over the cubes of each day (and, for two days,
        where the person who changed was and is: cubes of 0s and 1s, w and z, with b = w z,
        which differ: someone did change)."""
        n, days = self.size, len(self.days)
        agree, figures = self._agreement(), self.figures
        blocks = 1 if days == 1 else 5  # x1 (and x2, w, z, b)
        parts, low, high = [], [], []

        def row_of(pieces: dict[int, sparse.spmatrix], height: int) -> sparse.spmatrix:
            return sparse.hstack(
                [pieces.get(b, sparse.csr_matrix((height, n))) for b in range(blocks)]
            )

        for day in range(days):
            parts += [row_of({day: agree}, agree.shape[0]), row_of({day: figures}, len(self.keys))]
            low += [np.zeros(agree.shape[0]), self.low[day]]
            high += [np.zeros(agree.shape[0]), self.high[day]]
        if days == 2:
            one = sparse.identity(n, format="csr")
            everyone = sparse.csr_matrix(
                np.array([[1.0 if key[0] == 0 else 0.0 for key in self.index]])
            )
            ones = sparse.csr_matrix(np.ones((1, n)))
            parts += [
                row_of({2: agree}, agree.shape[0]),
                row_of({3: agree}, agree.shape[0]),
                row_of({0: -one, 1: one, 2: one, 3: -one}, n),  # day 2 = day 1 - w + z
                row_of({2: everyone}, 1),
                row_of({3: everyone}, 1),
                row_of({2: everyone, 3: everyone}, 1),
                row_of({4: one, 2: -one}, n),  # b <= w
                row_of({4: one, 3: -one}, n),  # b <= z
                row_of({4: one, 2: -one, 3: -one}, n),  # b >= w + z - 1
                # Somewhere w and z differ: the person changed, joined or left.
                row_of({2: ones, 3: ones, 4: -2 * ones}, 1),
            ]
            zeros = [np.zeros(agree.shape[0]), np.zeros(agree.shape[0]), np.zeros(n)]
            low += [*zeros, [0], [0], [1], np.full(n, -np.inf), np.full(n, -np.inf), -np.ones(n)]
            low += [[1]]
            high += [*zeros, [1], [1], [2], np.zeros(n), np.zeros(n), np.full(n, np.inf)]
            high += [[np.inf]]
        constraint = LinearConstraint(
            sparse.vstack(parts).tocsr(), np.concatenate(low), np.concatenate(high)
        )
        upper = np.full(blocks * n, np.inf)
        upper[days * n :] = 1
        return constraint, upper, blocks * n

    def attack(
        self, registers: list[Counter], *, only: Iterable[tuple] | None = None, seed: int = 0
    ) -> Verdict:
        """Try to pin every count from 1 to 4 on every day (or those of the figures `only`)."""
        verdict = Verdict()
        truth = [
            self.figures @ sum((self.cube(r) * n for r, n in reg.items()), np.zeros(self.size))
            for reg in registers
        ]
        chosen = None if only is None else set(only)
        targets = [
            (day, f)
            for day, values in enumerate(truth)
            for f in range(len(self.keys))
            if 1 <= values[f] <= 4 and (chosen is None or self.keys[f] in chosen)
        ]
        verdict.counts = len(targets)
        settled = self.witnessed(registers)
        left = [t for t in targets if t not in settled]
        verdict.witnessed = len(targets) - len(left)
        if not left:
            return verdict
        constraint, upper, total = self._program()
        options = {"integrality": np.ones(total), "bounds": Bounds(np.zeros(total), upper)}
        n = self.size

        def objective(weights: dict[tuple[int, int], float]) -> np.ndarray:
            c = np.zeros(total)
            for (day, f), weight in weights.items():
                c[day * n : (day + 1) * n] += weight * self.figures[f].toarray()[0]
            return c

        def value(x: np.ndarray, day: int, f: int) -> int:
            return round((self.figures[f] @ x[day * n : (day + 1) * n]).item())

        rng = np.random.default_rng(seed)
        remaining = set(left)
        for _ in range(12):
            weights = {t: rng.choice([-1, 1]) * rng.uniform(0.5, 1.5) for t in sorted(remaining)}
            result = milp(objective(weights), constraints=constraint, **options)
            assert result.x is not None, result.message  # the truth is always a solution
            moved = {t for t in remaining if value(result.x, *t) != round(truth[t[0]][t[1]])}
            remaining -= moved
            if not moved or not remaining:
                break
        for day, f in sorted(remaining):
            c = objective({(day, f): 1.0})
            smallest = milp(c, constraints=constraint, **options)
            largest = milp(-c, constraints=constraint, **options)
            if round(smallest.fun) == round(-largest.fun):
                verdict.pinned.append((day, self.keys[f], round(truth[day][f])))
        verdict.by_milp = len(left) - len(verdict.pinned)
        return verdict

    def extent(self, day: int, key: tuple) -> tuple[int, int]:
        """The smallest and largest values the figure `key` can take on `day`, by integer
        programming over everything the reader holds."""
        constraint, upper, total = self._program()
        options = {"integrality": np.ones(total), "bounds": Bounds(np.zeros(total), upper)}
        c = np.zeros(total)
        n = self.size
        c[day * n : (day + 1) * n] = self.figures[self.keys.index(key)].toarray()[0]
        smallest = milp(c, constraints=constraint, **options)
        largest = milp(-c, constraints=constraint, **options)
        return round(smallest.fun), round(-largest.fun)


def downloaded(client, areas: dict[int, str], on, pages: Iterable[tuple]) -> Publication:
    """Every snapshot table of each page (area or None, age group or ""), as a commissioner
    downloads it (CSV), read back into figures: what the reader holds for the day."""
    import csv
    import io

    from django.urls import reverse

    from dsr.deadlines import AgeGroup
    from reports.disclosure import Shown
    from reports.queries import TABLES

    labels = {slug: {} for slug in TABLES}
    labels["age-group"] = {label: value for value, label in AgeGroup.choices}
    labels["local-authority"] = {name: pk for pk, name in areas.items()}
    for d in dimensions():
        labels[d.slug] = {label: value for value, label in d.choices}
    columns = {"Total": TOTAL} | {RAG_LABELS[r]: r for r in RATINGS}
    figures = {}
    for area, age in pages:
        key = (frozenset([area] if area else areas), age)
        query = {"on_day": on.day, "on_month": on.month, "on_year": on.year, "age_group": age}
        if area:
            query["local_authority"] = area
        for slug in TABLES:
            url = reverse("reports:snapshot-csv", kwargs={"table": slug})
            rows = list(csv.reader(io.StringIO(client.get(url, query).content.decode())))
            header, *body = rows[2:]
            for row in body:
                row_key = TOTAL if row[0] == "Total" else labels[slug][row[0]]
                for heading, text in zip(header[1:], row[1:], strict=True):
                    figures[(key, slug, row_key, columns[heading])] = Shown(0, text)
    return Publication(figures)
