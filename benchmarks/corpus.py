"""A corpus of feature-engineering functions of the kinds public scripts apply to frames.

Each :class:`Case` is one pandas call of one user function (a UDF) over generated data: text
cleaning with regular expressions, tokenising and stemming, parsing dates with ``strptime``,
date arithmetic on object columns of Python ``datetime`` objects, great-circle distances, look-ups
in a large dict passed through ``args=``, ``json.loads`` and ``ast.literal_eval`` of string
columns, a lexicon scorer held in a closure, fuzzy matching with ``difflib``, least-squares fits
per row and per group, sorts per group, weighted averages with extra arguments and regular
expression features returning lists. The functions are written for this corpus, in the shape
such scripts give them: plain Python over the row, element or group, calling the standard
library and numpy.

The data comes from a fixed seed (:data:`SEED`), so every process builds the same objects:
strings, lists, dicts, ``datetime`` objects, floats and ints, in the dtypes such data has in
pandas (object columns of Python objects included). ``Case.units`` is the size at ``scale=1``,
chosen so that serial pandas takes roughly 0.3 to 3 s on a 2-CPU machine; the cases marked
``long`` take 1 s or more there. Nothing here imports pdpar: :meth:`Instance.run` calls
``obj.par(**options)`` only when given options.
"""

from __future__ import annotations

import ast
import datetime as dt
import difflib
import functools
import json
import math
import pickle
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SEED = 20241203

# --- the user functions -------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_NOT_WORD = re.compile(r"[^a-z0-9'\s]+")
_SPACE = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Text cleaning: markup and links out, lower case, punctuation out, spaces collapsed."""
    text = _TAG.sub(" ", text)
    text = _URL.sub(" ", text.lower())
    text = _NOT_WORD.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


STOPWORDS = frozenset("""a an and are as at be but by for from had has have he her his i if in
into is it its me my no not of on or our she so that the their them they this to was we were
what when which who will with you your""".split())
_TOKEN = re.compile(r"[a-z][a-z']+")


def tokenize(text: str) -> list[str]:
    """Tokens of three letters or more that are not stopwords, in order."""
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 2 and t not in STOPWORDS]


# Longest first: the first suffix that leaves a stem of 3 letters or more is replaced.
_ENDINGS = (("ational", "ate"), ("fulness", "ful"), ("iveness", "ive"), ("ization", "ize"),
            ("ations", "ate"), ("ation", "ate"), ("ments", ""), ("ment", ""), ("ness", ""),
            ("ings", ""), ("ing", ""), ("ies", "y"), ("ied", "y"), ("ful", ""), ("ly", ""),
            ("ed", ""), ("es", ""), ("s", ""))


def stem(word: str) -> str:
    """A suffix-stripping stemmer: one rule, the longest that applies."""
    if len(word) < 5 or word.endswith("ss"):
        return word
    for ending, replacement in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            return word[: len(word) - len(ending)] + replacement
    return word


def stem_text(text: str) -> str:
    """Every word of a cleaned text stemmed."""
    return " ".join(stem(w) for w in text.split())


_STAMP = "%Y-%m-%d %H:%M:%S"


def trip_minutes(row: pd.Series) -> float:
    """Minutes between two timestamps stored as strings; night trips flagged negative."""
    start = dt.datetime.strptime(row["pickup"], _STAMP)
    end = dt.datetime.strptime(row["dropoff"], _STAMP)
    minutes = (end - start).total_seconds() / 60.0
    if start.hour < 5 or start.hour >= 22:
        return -minutes
    return minutes


_TODAY = dt.date(2024, 6, 30)


def account_ages(row: pd.Series) -> pd.Series:
    """Date arithmetic on Python ``date``/``datetime`` objects; one Series per row."""
    birth, signup, seen = row["birth"], row["signup"], row["last_seen"]
    age = _TODAY.year - birth.year - ((_TODAY.month, _TODAY.day) < (birth.month, birth.day))
    tenure = seen - signup
    return pd.Series({
        "age": age,
        "tenure_days": tenure.days,
        "idle_days": (_TODAY - seen.date()).days,
        "signup_weekend": int(signup.weekday() >= 5),
        "signup_quarter": (signup.month - 1) // 3 + 1,
    })


EARTH_KM = 6371.0088


def _great_circle(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(a))


def haversine_km(row: pd.Series) -> float:
    """Great-circle distance between two points of a row, in km."""
    return _great_circle(row["pickup_lat"], row["pickup_lon"], row["dropoff_lat"],
                         row["dropoff_lon"])


def zip_state(code: str, table: Mapping[str, tuple]) -> str:
    """The state of a messy zip code, looked up in ``table`` (passed with ``args=``)."""
    key = code.strip().split("-")[0].zfill(5)
    hit = table.get(key)
    return hit[1] if hit is not None else "??"


def store_distance(row: pd.Series, table: Mapping[str, tuple]) -> float:
    """km from the customer's zip code (looked up in ``table``) to the store; NaN if unknown."""
    hit = table.get(row["zip"])
    if hit is None:
        return math.nan
    return _great_circle(hit[2], hit[3], row["store_lat"], row["store_lon"])


def order_total(payload: str) -> float:
    """``json.loads`` of an order; the total of its items after the coupon."""
    order = json.loads(payload)
    total = sum(item["price"] * item["qty"] for item in order["items"])
    if order.get("coupon") == "TENOFF":
        total *= 0.9
    return round(total + order.get("shipping", 0.0), 2)


def genre_names(text: str) -> list[str]:
    """Names out of a Python-literal list of dicts, as CSV exports store them."""
    return [item["name"] for item in ast.literal_eval(text)]


NEGATIONS = frozenset({"not", "no", "never", "hardly"})


def make_scorer(lexicon: Mapping[str, float]) -> Callable[[str], float]:
    """A sentiment-like scorer: the mean lexicon score of the words of a text, a negation
    flipping the next word's. The lexicon is held in the closure."""
    def sentiment_score(text: str) -> float:
        total, hits, flip = 0.0, 0, False
        for word in text.lower().split():
            word = word.strip(".,!?;:()\"'")
            if word in NEGATIONS:
                flip = True
                continue
            value = lexicon.get(word)
            if value is not None:
                total += -value if flip else value
                hits += 1
            flip = False
        return total / hits if hits else 0.0
    return sentiment_score


def name_similarity(row: pd.Series) -> float:
    """difflib's similarity of two spellings of a name, case and punctuation ignored."""
    a = row["name_left"].lower().replace(".", "").replace(",", "")
    b = row["name_right"].lower().replace(".", "").replace(",", "")
    return round(difflib.SequenceMatcher(None, a, b).ratio(), 6)


def make_matcher(candidates: list[str]) -> Callable[[str], str | None]:
    """Fuzzy matching of a free-text city against known names (held in the closure)."""
    def closest_city(name: str) -> str | None:
        found = difflib.get_close_matches(name.strip().title(), candidates, n=1, cutoff=0.75)
        return found[0] if found else None
    return closest_city


_MONTHS = np.arange(12, dtype=float)


def monthly_trend(row: pd.Series) -> pd.Series:
    """A least-squares line through a row of 12 monthly values: slope, intercept and R²."""
    y = row.to_numpy(dtype=float)
    slope, intercept = np.polyfit(_MONTHS, y, 1)
    residual = y - (intercept + slope * _MONTHS)
    spread = ((y - y.mean()) ** 2).sum()
    return pd.Series({"slope": slope, "intercept": intercept,
                      "r2": 1.0 - (residual ** 2).sum() / spread if spread else 0.0})


def price_elasticity(group: pd.DataFrame) -> pd.Series:
    """Ordinary least squares of log sales on log price and promotion, per store."""
    x = np.column_stack([np.ones(len(group)), np.log(group["price"].to_numpy()),
                         group["promo"].to_numpy(dtype=float)])
    y = np.log1p(group["units"].to_numpy(dtype=float))
    coef, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    return pd.Series({"intercept": coef[0], "elasticity": coef[1], "promo_lift": coef[2],
                      "rank": rank, "weeks": len(group)})


def latest_orders(group: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """A customer's ``n`` latest orders, newest first (a sort per group)."""
    return group.sort_values(["ts", "amount"], ascending=[False, False], kind="stable").head(n)


def weighted_mean(group: pd.DataFrame, value: str, weight: str = "qty") -> float:
    """The ``weight``-weighted mean of ``value`` (both given as extra arguments)."""
    w = group[weight].to_numpy(dtype=float)
    total = w.sum()
    if total == 0:
        return math.nan
    return float((group[value].to_numpy() * w).sum() / total)


_HASHTAG = re.compile(r"#(\w+)")
_MENTION = re.compile(r"@(\w+)")
_AMOUNT = re.compile(r"\$(\d+(?:\.\d\d)?)")


def social_features(text: str) -> list[str]:
    """Hashtags, mentions and dollar amounts of a post, as a list of tokens."""
    return ([f"#{t.lower()}" for t in _HASHTAG.findall(text)]
            + [f"@{m.lower()}" for m in _MENTION.findall(text)]
            + [f"${a}" for a in _AMOUNT.findall(text)])


_MONEY = re.compile(r"^\s*(-)?\s*[$€£]?\s*([\d,]*\.?\d+)\s*([kKmM]?)\s*$")


def parse_money(cell: str) -> float:
    """A price typed by hand ("$1,234.50", "€ 99", "1.2k", "n/a") as a float."""
    found = _MONEY.match(cell)
    if found is None:
        return math.nan
    value = float(found.group(2).replace(",", ""))
    value *= {"k": 1e3, "m": 1e6}.get(found.group(3).lower(), 1.0)
    return -value if found.group(1) else value


# --- the data -----------------------------------------------------------------------------

def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng([SEED, zlib.crc32(name.encode())])


_SYLLABLES = ("ka", "lo", "mi", "ter", "an", "sor", "vi", "lu", "den", "pra", "gel", "mo",
              "fin", "sta", "ker", "ul", "ze", "nor", "pi", "qua", "bro", "tel", "ra", "shi",
              "vo", "dra", "ne", "cor", "el", "bun")
_WORD_ENDINGS = ("", "", "", "", "s", "ed", "ing", "ly", "ness", "ment", "ation", "ies",
                 "ful", "ings", "ational")


@functools.cache
def vocabulary(size: int = 20_000) -> tuple[str, ...]:
    """``size`` distinct made-up words, in a fixed order (no set is iterated: string hashes
    differ between processes)."""
    rng = _rng("vocabulary")
    words: dict[str, None] = {}
    while len(words) < size:
        n = int(rng.integers(1, 4))
        stem_ = "".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), n))
        words.setdefault(stem_ + _WORD_ENDINGS[int(rng.integers(0, len(_WORD_ENDINGS)))])
    return tuple(words)


@functools.cache
def lexicon() -> dict[str, float]:
    """Scores from -4 to 4 for a third of the vocabulary."""
    rng = _rng("lexicon")
    words = vocabulary()
    picked = rng.choice(len(words), len(words) // 3, replace=False)
    scores = rng.integers(-4, 5, len(picked))
    return {words[i]: float(s) for i, s in zip(picked, scores) if s}


_STOP_LIST = tuple(sorted(STOPWORDS))


def texts(name: str, n: int, words: tuple[int, int] = (12, 60), noise: bool = True) -> list[str]:
    """``n`` reviews or posts of made-up words and stopwords, with capitals, punctuation,
    and (``noise``) markup, links, hashtags, mentions and prices."""
    rng = _rng(name)
    vocab = np.array(vocabulary(), dtype=object)
    lengths = rng.integers(words[0], words[1] + 1, n)
    total = int(lengths.sum())
    # Zipf-like word frequencies, a third of the words stopwords
    picks = vocab[np.minimum(rng.zipf(1.3, total) - 1, len(vocab) - 1)]
    stop = rng.random(total) < 0.3
    picks[stop] = np.array(_STOP_LIST, dtype=object)[rng.integers(0, len(_STOP_LIST),
                                                                 int(stop.sum()))]
    marks = rng.random(total)
    extras = rng.integers(0, 10_000, total)
    rules: list[tuple[float, Callable[[str, int], str]]] = [
        (0.08, lambda w, x: w + "."), (0.11, lambda w, x: w + ","),
        (0.12, lambda w, x: w + "!")]
    if noise:
        rules += [(0.125, lambda w, x: "#" + w.capitalize()),
                  (0.13, lambda w, x: f"@user{x}"),
                  (0.134, lambda w, x: f"https://shop.example/p/{x}?ref=feed"),
                  (0.137, lambda w, x: "<br />"),
                  (0.142, lambda w, x: f"${x % 500}.{x % 100:02d}")]
    low = 0.0
    for high, rule in rules:
        at = np.flatnonzero((marks >= low) & (marks < high))
        picks[at] = [rule(w, x) for w, x in zip(picks[at], extras[at])]
        low = high
    at = np.flatnonzero(marks > 0.97)
    picks[at] = [w.upper() for w in picks[at]]
    ends = np.cumsum(lengths)
    starts = ends - lengths
    picks[starts] = [w.capitalize() for w in picks[starts]]
    flat = picks.tolist()
    return [" ".join(flat[a:b]) for a, b in zip(starts.tolist(), ends.tolist())]


_STATES = ("AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE "
           "NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY").split()


@functools.cache
def city_names(count: int = 3_000) -> tuple[str, ...]:
    rng = _rng("cities")
    names: dict[str, None] = {}
    prefixes = ("", "", "", "Port ", "New ", "East ", "Fort ", "Lake ")
    suffixes = ("", "", "ton", "ville", "burg", " Falls", " Springs", "field", " City")
    while len(names) < count:
        n = int(rng.integers(2, 4))
        core = "".join(_SYLLABLES[i] for i in rng.integers(0, len(_SYLLABLES), n))
        names.setdefault(prefixes[int(rng.integers(0, len(prefixes)))] + core.capitalize()
                         + suffixes[int(rng.integers(0, len(suffixes)))])
    return tuple(names)


@functools.cache
def zip_table(entries: int = 54_000) -> dict[str, tuple[str, str, float, float]]:
    """Zip code -> (city, state, latitude, longitude): about 2 MB pickled."""
    rng = _rng("zips")
    codes = np.sort(rng.choice(100_000, entries, replace=False))
    cities = city_names()
    city = rng.integers(0, len(cities), entries)
    state = rng.integers(0, len(_STATES), entries)
    lat = np.round(rng.uniform(25.0, 49.0, entries), 6)
    lon = np.round(rng.uniform(-124.0, -67.0, entries), 6)
    return {f"{c:05d}": (cities[i], _STATES[s], float(a), float(o))
            for c, i, s, a, o in zip(codes, city, state, lat, lon)}


def _messy_zips(rng: np.random.Generator, n: int) -> list[str]:
    known = list(zip_table())
    picks = rng.integers(0, len(known), n)
    unknown = rng.integers(0, 100_000, n)
    style = rng.random(n)
    out = []
    for i in range(n):
        code = known[picks[i]] if style[i] < 0.9 else f"{unknown[i]:05d}"
        if style[i] < 0.2:
            code = f"{code}-{unknown[i] % 10_000:04d}"
        elif style[i] < 0.3:
            code = f" {code} "
        elif style[i] < 0.4:
            code = code.lstrip("0") or "0"
        out.append(code)
    return out


def make_reviews(n: int) -> pd.Series:
    """Review texts with noise, 2% missing (object dtype)."""
    values: list[Any] = texts("reviews", n)
    for i in _rng("reviews-missing").choice(n, n // 50, replace=False):
        values[i] = None
    return pd.Series(values, name="review", dtype=object)


_PUNCTUATION = str.maketrans("", "", ".,!")


def make_clean_texts(n: int) -> pd.Series:
    """Cleaned texts (lower case, words only), as tokenising and stemming get them; pandas'
    default string dtype."""
    return pd.Series([t.lower().translate(_PUNCTUATION) for t in texts("clean", n, noise=False)],
                     name="text")


def make_posts(n: int) -> pd.Series:
    return pd.Series(texts("posts", n, words=(8, 40)), name="post")


def make_trips(n: int) -> pd.DataFrame:
    rng = _rng("trips")
    start = np.datetime64("2023-01-01T00:00:00") + rng.integers(0, 365 * 86_400, n).astype(
        "timedelta64[s]")
    end = start + rng.gamma(2.0, 420.0, n).astype("timedelta64[s]")
    fmt = np.vectorize(lambda t: str(t).replace("T", " "), otypes=[object])
    return pd.DataFrame({
        "vendor": rng.choice(np.array(["CMT", "VTS", "DDS"], dtype=object), n),
        "pickup": fmt(start), "dropoff": fmt(end),
        "passengers": rng.integers(1, 7, n),
        "fare": np.round(rng.gamma(2.0, 7.5, n), 2),
    })


def make_accounts(n: int) -> pd.DataFrame:
    """Object columns of Python ``date`` and ``datetime`` objects (as read from a database
    driver), a plan name and a float."""
    rng = _rng("accounts")
    base = dt.datetime(2015, 1, 1)
    birth0 = dt.date(1940, 1, 1)
    birth_days = rng.integers(0, 365 * 65, n)
    signup_s = rng.integers(0, 9 * 365 * 86_400, n)
    seen_s = signup_s + rng.integers(0, 400 * 86_400, n)
    birth = [birth0 + dt.timedelta(days=int(d)) for d in birth_days]
    signup = [base + dt.timedelta(seconds=int(s)) for s in signup_s]
    seen = [base + dt.timedelta(seconds=int(s)) for s in seen_s]
    return pd.DataFrame({
        "plan": rng.choice(np.array(["free", "basic", "pro"], dtype=object), n),
        "birth": pd.Series(birth, dtype=object),
        "signup": pd.Series(signup, dtype=object),
        "last_seen": pd.Series(seen, dtype=object),
        "spend": np.round(rng.gamma(2.0, 30.0, n), 2),
    })


def make_coordinates(n: int) -> pd.DataFrame:
    rng = _rng("coordinates")
    lat = rng.uniform(40.55, 40.95, n)
    lon = rng.uniform(-74.1, -73.7, n)
    return pd.DataFrame({
        "pickup_lat": lat, "pickup_lon": lon,
        "dropoff_lat": lat + rng.normal(0, 0.03, n), "dropoff_lon": lon + rng.normal(0, 0.03, n),
    })


def make_zip_codes(n: int) -> pd.Series:
    return pd.Series(_messy_zips(_rng("zip-codes"), n), name="zip", dtype=object)


def make_customers(n: int) -> pd.DataFrame:
    rng = _rng("customers")
    known = list(zip_table())
    codes = [known[i] for i in rng.integers(0, len(known), n)]
    for i in rng.choice(n, n // 20, replace=False):
        codes[i] = f"{int(rng.integers(0, 100_000)):05d}"  # some not in the table
    return pd.DataFrame({
        "customer": np.arange(n, dtype=np.int64) + 10_000,
        "zip": pd.Series(codes, dtype=object),
        "store_lat": rng.uniform(25.0, 49.0, n), "store_lon": rng.uniform(-124.0, -67.0, n),
    })


def make_orders_json(n: int) -> pd.Series:
    rng = _rng("orders-json")
    counts = rng.integers(1, 9, n)
    prices = np.round(rng.gamma(2.0, 12.0, int(counts.sum())), 2)
    qtys = rng.integers(1, 5, int(counts.sum()))
    skus = rng.integers(0, 50_000, int(counts.sum()))
    coupon = rng.random(n)
    out, at = [], 0
    for i, c in enumerate(counts):
        items = [{"sku": f"SKU-{skus[j]:05d}", "price": float(prices[j]), "qty": int(qtys[j])}
                 for j in range(at, at + c)]
        at += c
        order: dict[str, Any] = {"order_id": 700_000 + i, "items": items,
                                 "shipping": 4.99 if coupon[i] > 0.5 else 0.0}
        if coupon[i] < 0.2:
            order["coupon"] = "TENOFF"
        out.append(json.dumps(order))
    return pd.Series(out, name="payload", dtype=object)


_GENRES = ((12, "Adventure"), (14, "Fantasy"), (16, "Animation"), (18, "Drama"),
           (27, "Horror"), (28, "Action"), (35, "Comedy"), (36, "History"), (37, "Western"),
           (53, "Thriller"), (80, "Crime"), (99, "Documentary"), (878, "Science Fiction"),
           (9648, "Mystery"), (10402, "Music"), (10749, "Romance"), (10751, "Family"))


def make_genres(n: int) -> pd.Series:
    rng = _rng("genres")
    counts = rng.integers(0, 6, n)
    out = []
    for c in counts:
        picked = rng.choice(len(_GENRES), c, replace=False)
        out.append(repr([{"id": _GENRES[k][0], "name": _GENRES[k][1]} for k in picked]))
    return pd.Series(out, name="genres", dtype=object)


def make_sentiment_texts(n: int) -> pd.Series:
    return pd.Series(texts("sentiment", n, noise=False), name="text", dtype=object)


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(0, 3))
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + "aeiou"[int(rng.integers(0, 5))] + word[i + 1:]


def make_name_pairs(n: int) -> pd.DataFrame:
    rng = _rng("name-pairs")
    vocab = vocabulary()
    forms = ("Inc.", "Ltd", "LLC", "Co.", "& Sons", "Group", "")
    left, right = [], []
    for _ in range(n):
        words = [vocab[i].capitalize() for i in rng.integers(0, 2_000, int(rng.integers(1, 4)))]
        name = " ".join(words) + " " + forms[int(rng.integers(0, len(forms)))]
        left.append(name.strip())
        r = rng.random()
        if r < 0.4:
            other = " ".join(_typo(rng, w) for w in words)
        elif r < 0.7:
            other = " ".join(words).upper() + ", " + forms[int(rng.integers(0, len(forms)))]
        else:
            other = " ".join(vocab[i].capitalize() for i in rng.integers(0, 2_000, 2))
        right.append(other.strip())
    return pd.DataFrame({"name_left": pd.Series(left, dtype=object),
                         "name_right": pd.Series(right, dtype=object),
                         "source": rng.choice(np.array(["crm", "web"], dtype=object), n)})


CITY_CANDIDATES = 400


def make_city_queries(n: int) -> pd.Series:
    rng = _rng("city-queries")
    known = city_names()[:CITY_CANDIDATES]
    others = city_names()[CITY_CANDIDATES:]
    out = []
    for r, k, o in zip(rng.random(n), rng.integers(0, len(known), n),
                       rng.integers(0, len(others), n)):
        if r < 0.5:
            out.append(_typo(rng, known[k]).lower())
        elif r < 0.8:
            out.append(f" {known[k].upper()} ")
        else:
            out.append(others[o])
    return pd.Series(out, name="city", dtype=object)


def make_monthly(n: int) -> pd.DataFrame:
    rng = _rng("monthly")
    level = rng.gamma(3.0, 100.0, (n, 1))
    trend = rng.normal(0, 5, (n, 1))
    values = np.round(level + trend * np.arange(12) + rng.normal(0, 20, (n, 12)), 2)
    return pd.DataFrame(values, columns=[f"m{i:02d}" for i in range(1, 13)],
                        index=pd.RangeIndex(n, name="product"))


def make_store_weeks(groups: int, per_group: int = 52) -> pd.DataFrame:
    rng = _rng("store-weeks")
    n = groups * per_group
    store = np.repeat(np.arange(groups), per_group) + 100
    price = np.round(rng.uniform(1.0, 9.0, n), 2)
    promo = (rng.random(n) < 0.25).astype(np.int64)
    elasticity = np.repeat(rng.normal(-1.5, 0.4, groups), per_group)
    units = np.maximum(0, np.round(np.exp(4 + elasticity * np.log(price) + 0.3 * promo
                                          + rng.normal(0, 0.2, n)))).astype(np.int64)
    order = rng.permutation(n)
    return pd.DataFrame({"store": store[order], "week": np.tile(np.arange(per_group),
                                                                groups)[order],
                         "price": price[order], "promo": promo[order], "units": units[order]})


def make_order_history(groups: int) -> pd.DataFrame:
    rng = _rng("order-history")
    per = rng.integers(1, 30, groups)
    n = int(per.sum())
    return pd.DataFrame({
        "customer": rng.permutation(np.repeat(np.arange(groups) + 5_000, per)),
        "ts": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 700 * 86_400, n),
                                                           unit="s"),
        "amount": np.round(rng.gamma(2.0, 25.0, n), 2),
        "channel": rng.choice(np.array(["web", "app", "store"], dtype=object), n),
    })


def make_sales_lines(groups: int) -> pd.DataFrame:
    rng = _rng("sales-lines")
    per = rng.integers(2, 40, groups)
    n = int(per.sum())
    return pd.DataFrame({
        "sku": rng.permutation(np.repeat(np.arange(groups) + 1_000_000, per)),
        "price": np.round(rng.gamma(3.0, 4.0, n), 2),
        "qty": rng.integers(0, 12, n),
        "region": rng.choice(np.array(["n", "s", "e", "w"], dtype=object), n),
    })


def make_price_sheet(n: int) -> pd.DataFrame:
    """Six object columns of hand-typed prices, some missing (NaN) and some unreadable."""
    rng = _rng("price-sheet")
    columns = {}
    for c in ("list", "retail", "web", "promo", "cost", "msrp"):
        value = rng.gamma(2.0, 60.0, n)
        style = rng.random(n)
        cells: list[Any] = []
        for v, s in zip(value, style):
            if s < 0.3:
                cells.append(f"${v:,.2f}")
            elif s < 0.5:
                cells.append(f"€ {v:.0f}")
            elif s < 0.6:
                cells.append(f"{v / 1000:.1f}k")
            elif s < 0.65:
                cells.append("n/a")
            elif s < 0.7:
                cells.append(math.nan)
            elif s < 0.72:
                cells.append(f"-{v:.2f}")
            else:
                cells.append(f"{v:,.2f}")
        columns[c] = pd.Series(cells, dtype=object)
    return pd.DataFrame(columns)


# --- the cases ----------------------------------------------------------------------------

ENTRIES = ("Series.map", "Series.apply", "DataFrame.apply", "DataFrame.map", "groupby.apply")


@dataclass(frozen=True)
class Case:
    """One pandas call of one UDF over generated data.

    ``make(n)`` builds the data of ``n`` units (rows, elements or groups) at once;
    ``function()`` gives the UDF (a closure built over a lexicon, or a plain function) and
    ``extra()`` the positional arguments passed to it (``args=`` of ``apply``, or ``*args`` of
    groupby's ``apply``); ``options`` are further keywords of the pandas call. ``units`` is the
    size at ``scale=1``; ``long`` marks the cases sized for 1 s or more of serial pandas on a
    2-CPU machine.
    """

    key: str
    title: str
    entry: str
    make: Callable[[int], pd.Series | pd.DataFrame]
    units: int
    unit: str
    function: Callable[[], Callable[..., Any]]
    extra: Callable[[], tuple] = tuple
    options: Mapping[str, Any] = field(default_factory=dict)
    by: str | None = None
    long: bool = False

    def size(self, scale: float = 1.0) -> int:
        return max(int(round(self.units * scale)), 20)

    def build(self, scale: float = 1.0) -> Instance:
        return Instance(self, self.make(self.size(scale)), self.function(), self.extra())

    @property
    def call(self) -> str:
        """The pandas call, as written in the report."""
        fn = self.function().__name__
        shown = [f"<dict of {len(a):,}>" if isinstance(a, Mapping) else repr(a)
                 for a in self.extra()]
        extra = f", args=({', '.join(shown)},)" if shown else ""
        opts = "".join(f", {k}={v!r}" for k, v in self.options.items())
        return {
            "Series.map": f"s.map({fn}{opts})",
            "Series.apply": f"s.apply({fn}{extra}{opts})",
            "DataFrame.apply": f"df.apply({fn}, axis=1{extra}{opts})",
            "DataFrame.map": f"df.map({fn}{opts})",
            "groupby.apply": f"df.groupby({self.by!r}).apply({fn}"
                             + "".join(f", {a}" for a in shown)
                             + f"{opts}, include_groups=False)",
        }[self.entry]


@dataclass
class Instance:
    """A case with its data, its UDF and the UDF's extra arguments, built once per process."""

    case: Case
    data: pd.Series | pd.DataFrame
    fn: Callable[..., Any]
    args: tuple

    def run(self, par: Mapping[str, Any] | None = None) -> Any:
        """The pandas call; on ``data.par(**par)`` when ``par`` is given (pdpar's accessor)."""
        case, args = self.case, self.args
        obj = self.data if par is None else self.data.par(**par)
        if case.entry == "Series.map":
            return obj.map(self.fn, **case.options)
        if case.entry == "Series.apply":
            return obj.apply(self.fn, args=args, **case.options)
        if case.entry == "DataFrame.apply":
            return obj.apply(self.fn, axis=1, args=args, **case.options)
        if case.entry == "DataFrame.map":
            return obj.map(self.fn, **case.options)
        if case.entry == "groupby.apply":
            return obj.groupby(case.by).apply(self.fn, *args, include_groups=False,
                                              **case.options)
        raise ValueError(case.entry)

    def describe(self) -> str:
        """Size and dtypes, for the report: "40,000 rows: object[string] ×2, int64, float64"."""
        data = self.data
        if isinstance(data, pd.Series):
            text = f"{len(data):,} elements, {_dtype(data)}"
        else:
            kinds: dict[str, int] = {}
            for column in data.columns:
                kinds[_dtype(data[column])] = kinds.get(_dtype(data[column]), 0) + 1
            text = f"{len(data):,} rows: " + ", ".join(
                k if c == 1 else f"{k} ×{c}" for k, c in kinds.items())
        if self.case.entry == "groupby.apply":
            text += f"; {data[self.case.by].nunique():,} groups"
        if self.args:
            text += "; args: " + ", ".join(_argument(a) for a in self.args)
        return text


def fingerprints(scale: float) -> dict[str, int]:
    """A hash of each case's data and extra arguments at ``scale``: the same in every process."""
    out = {}
    for key, case in CASES.items():
        instance = case.build(scale)
        data = pd.util.hash_pandas_object(instance.data.astype(str), index=True)
        extra = zlib.crc32(pickle.dumps(instance.args, protocol=4))
        out[key] = int(data.sum()) ^ extra
    return out


def _argument(value: Any) -> str:
    if isinstance(value, Mapping):
        megabytes = len(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)) / 1e6
        return f"dict of {len(value):,} ({megabytes:.1f} MB pickled)"
    return repr(value) if isinstance(value, (str, int, float)) else type(value).__name__


def _dtype(s: pd.Series) -> str:
    if s.dtype != object:
        return str(s.dtype)
    inferred = pd.api.types.infer_dtype(s.iloc[:1_000], skipna=True)
    return f"object[{inferred}]"


def _lexicon_scorer() -> Callable[[str], float]:
    return make_scorer(lexicon())


def _city_matcher() -> Callable[[str], str | None]:
    return make_matcher(list(city_names()[:CITY_CANDIDATES]))


def _zip_args() -> tuple:
    return (zip_table(),)


CASES: dict[str, Case] = {c.key: c for c in [
    Case("clean_text", "Text cleaning with regular expressions (markup, links, punctuation)",
         "Series.map", make_reviews, 70_000, "elements", lambda: clean_text,
         options={"na_action": "ignore"}, long=True),
    Case("tokenize", "Tokenising: regex tokens without stopwords, a list per text",
         "Series.apply", make_clean_texts, 130_000, "elements", lambda: tokenize, long=True),
    Case("stem", "A suffix-stripping stemmer over every word of a text",
         "Series.map", make_clean_texts, 45_000, "elements", lambda: stem_text, long=True),
    Case("trip_minutes", "strptime of two timestamp strings per row, minutes between",
         "DataFrame.apply", make_trips, 50_000, "rows", lambda: trip_minutes, long=True),
    Case("account_ages", "Date arithmetic on object columns of Python date/datetime; a Series "
         "per row", "DataFrame.apply", make_accounts, 6_000, "rows", lambda: account_ages,
         long=True),
    Case("haversine", "Haversine distance of two points per row (float columns)",
         "DataFrame.apply", make_coordinates, 130_000, "rows", lambda: haversine_km, long=True),
    Case("zip_state", "Messy zip code to state through a 2 MB dict passed with args=",
         "Series.apply", make_zip_codes, 400_000, "elements", lambda: zip_state,
         extra=_zip_args),
    Case("store_distance", "Zip code to coordinates through a 2 MB dict (args=), then "
         "distance to the store", "DataFrame.apply", make_customers, 130_000, "rows",
         lambda: store_distance, extra=_zip_args, long=True),
    Case("order_total", "json.loads of an order, its total after coupon",
         "Series.map", make_orders_json, 70_000, "elements", lambda: order_total),
    Case("genre_names", "ast.literal_eval of a list of dicts, the names as a list",
         "Series.apply", make_genres, 35_000, "elements", lambda: genre_names, long=True),
    Case("sentiment", "Lexicon scorer with negations, a 5,900-word dict in a closure",
         "Series.map", make_sentiment_texts, 160_000, "elements", _lexicon_scorer, long=True),
    Case("name_similarity", "difflib.SequenceMatcher ratio of two spellings of a name",
         "DataFrame.apply", make_name_pairs, 30_000, "rows", lambda: name_similarity,
         long=True),
    Case("city_match", "difflib.get_close_matches of a city against 400 known names",
         "Series.map", make_city_queries, 1_300, "elements", _city_matcher, long=True),
    Case("monthly_trend", "np.polyfit per row of 12 months, slope/intercept/R² as a Series",
         "DataFrame.apply", make_monthly, 3_800, "rows", lambda: monthly_trend, long=True),
    Case("price_elasticity", "OLS (numpy lstsq) of log units on log price and promo per store",
         "groupby.apply", make_store_weeks, 2_600, "groups", lambda: price_elasticity,
         by="store", long=True),
    Case("latest_orders", "Sort each customer's orders, keep the 3 latest",
         "groupby.apply", make_order_history, 1_500, "groups", lambda: latest_orders,
         by="customer", long=True),
    Case("weighted_mean", "Weighted mean price per SKU, column names as extra arguments",
         "groupby.apply", make_sales_lines, 4_500, "groups", lambda: weighted_mean,
         extra=lambda: ("price",), options={"weight": "qty"}, by="sku"),
    Case("social_features", "Hashtags, mentions and prices by regex, a list per post",
         "Series.map", make_posts, 250_000, "elements", lambda: social_features),
    Case("parse_money", "Hand-typed prices to floats, every cell of six object columns",
         "DataFrame.map", make_price_sheet, 55_000, "rows", lambda: parse_money,
         options={"na_action": "ignore"}),
]}
