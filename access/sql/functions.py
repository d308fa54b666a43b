"""The functions analysts' SQL may call: an allow-list, never a deny-list.

sqlglot turns the functions it knows into typed nodes (``count(x)`` → :class:`exp.Count`) and
every other call into :class:`exp.Anonymous` carrying its name. A call runs only when its node
type is in :data:`TYPED` or its name is in :data:`NAMED`; everything else (file and URL readers,
catalogue functions, ``query()``, ``getenv()``, extensions' functions, functions added to DuckDB
later) is refused by default. :data:`TABLE_FUNCTIONS` are the few that may stand in ``FROM``.

Left out on purpose, besides everything that reads or reveals outside the query: the functions
that build a value as large as an argument says (``repeat``, ``lpad`` / ``rpad``, ``format`` /
``printf`` with a width, ``string_split``, ``range(n)`` as a value). DuckDB allocates such values
outside its memory limit, so ``repeat('x', 2000000000)`` would take gigabytes past any limit before
the timeout could stop it.

:data:`COMPARING` are the functions that compare their arguments with a value: like ``=`` and
``LIKE``, they may not take a masked column (see :mod:`access.sql.taint`).
"""

from __future__ import annotations

from sqlglot import exp

AGGREGATES: tuple[type[exp.Expr], ...] = (
    exp.Count,
    exp.Sum,
    exp.Avg,
    exp.Min,
    exp.Max,
    exp.CountIf,
    exp.AnyValue,
    exp.First,
    exp.Last,
    exp.ArgMin,
    exp.ArgMax,
    exp.Median,
    exp.Mode,
    exp.PercentileCont,
    exp.PercentileDisc,
    exp.Quantile,
    exp.ApproxQuantile,
    exp.ApproxDistinct,
    exp.Stddev,
    exp.StddevPop,
    exp.StddevSamp,
    exp.Variance,
    exp.VariancePop,
    exp.Corr,
    exp.CovarPop,
    exp.CovarSamp,
    exp.RegrSlope,
    exp.Kurtosis,
    exp.Skewness,
    exp.GroupConcat,
    exp.ArrayAgg,
    exp.LogicalAnd,
    exp.LogicalOr,
)
WINDOW: tuple[type[exp.Expr], ...] = (
    exp.RowNumber,
    exp.Rank,
    exp.DenseRank,
    exp.PercentRank,
    exp.CumeDist,
    exp.Ntile,
    exp.Lag,
    exp.Lead,
    exp.FirstValue,
    exp.LastValue,
    exp.NthValue,
)
TEXT: tuple[type[exp.Expr], ...] = (
    exp.Lower,
    exp.Upper,
    exp.Length,
    exp.Trim,
    exp.Substring,
    exp.Left,
    exp.Right,
    exp.Concat,
    exp.ConcatWs,
    exp.Replace,
    exp.Reverse,
    exp.StrPosition,
    exp.StartsWith,
    exp.EndsWith,
    exp.Contains,
    exp.SplitPart,
    exp.RegexpReplace,
    exp.RegexpExtract,
    exp.RegexpLike,
    exp.RegexpFullMatch,
    exp.Translate,
    exp.Ascii,
    exp.Chr,
    exp.Unicode,
    exp.MD5,
    exp.SHA2,
    exp.Levenshtein,
    exp.JarowinklerSimilarity,
)
NUMBERS: tuple[type[exp.Expr], ...] = (
    exp.Abs,
    exp.Round,
    exp.Floor,
    exp.Ceil,
    exp.Trunc,
    exp.Greatest,
    exp.Least,
    exp.Sqrt,
    exp.Cbrt,
    exp.Pow,
    exp.Ln,
    exp.Log,
    exp.Exp,
    exp.Sign,
    exp.Mod,
    exp.Pi,
    exp.Degrees,
    exp.Radians,
    exp.IsNan,
    exp.IsInf,
    exp.Rand,
)
TIME: tuple[type[exp.Expr], ...] = (
    exp.TimestampTrunc,
    exp.Extract,
    exp.Year,
    exp.Quarter,
    exp.Month,
    exp.Week,
    exp.WeekOfYear,
    exp.Day,
    exp.DayOfWeek,
    exp.DayOfWeekIso,
    exp.DayOfMonth,
    exp.DayOfYear,
    exp.Hour,
    exp.Minute,
    exp.Second,
    exp.Monthname,
    exp.Dayname,
    exp.LastDay,
    exp.DateDiff,
    exp.TimeToStr,
    exp.StrToTime,
    exp.DateFromParts,
    exp.TimestampFromParts,
    exp.CurrentDate,
    exp.CurrentTimestamp,
    exp.TimeToUnix,
    exp.UnixToTime,
    exp.ToDays,
)
VALUES: tuple[type[exp.Expr], ...] = (
    exp.Case,
    exp.If,
    exp.Exists,
    exp.Coalesce,
    exp.Nullif,
    exp.Cast,
    exp.TryCast,
    exp.Typeof,
    exp.Array,
    exp.ArraySize,
    exp.ArrayContains,
    exp.ArraySort,
    exp.ArrayDistinct,
    exp.ArrayToString,
    exp.Flatten,
    exp.Explode,
    exp.Unnest,
    exp.Struct,
    exp.StructExtract,
    exp.GenerateSeries,
)
TYPED: frozenset[type[exp.Expr]] = frozenset(AGGREGATES + WINDOW + TEXT + NUMBERS + TIME + VALUES)
"""Typed sqlglot nodes that may run (matched exactly: a subclass is a different function)."""

NAMED = frozenset(
    {
        # aggregates sqlglot does not type
        "histogram",
        "entropy",
        "product",
        "fsum",
        "favg",
        # text
        "strlen",
        "octet_length",
        "prefix",
        "suffix",
        "strip_accents",
        "nfc_normalize",
        "jaccard",
        "hamming",
        "mismatches",
        "damerau_levenshtein",
        # numbers
        "gcd",
        "lcm",
        "even",
        # dates and times
        "date_part",
        "datepart",
        "date_sub",
        "yearweek",
        "try_strptime",
        "age",
        "now",
        "to_months",
        "to_years",
        # values and lists
        "iff",
        "list_value",
        "list_slice",
        "list_extract",
        "list_reverse",
        "list_unique",
        "cardinality",
    }
)
"""Names of calls sqlglot leaves untyped (:class:`exp.Anonymous`) that may run."""

TABLE_FUNCTIONS: tuple[type[exp.Expr], ...] = (exp.GenerateSeries, exp.Unnest, exp.Explode)
"""What may stand in ``FROM`` besides datasets and CTEs: ``range``, ``generate_series``, ``unnest``."""
TABLE_ONLY: tuple[type[exp.Expr], ...] = (exp.GenerateSeries,)
"""Functions that run in ``FROM`` only: ``range(n)`` streams there, but as a value it would build a
list of ``n`` elements in memory DuckDB does not count against its limit."""

COMPARING: tuple[type[exp.Expr], ...] = (
    exp.StartsWith,
    exp.EndsWith,
    exp.Contains,
    exp.StrPosition,
    exp.RegexpLike,
    exp.RegexpFullMatch,
    exp.RegexpExtract,
    exp.RegexpReplace,
    exp.Levenshtein,
    exp.JarowinklerSimilarity,
    exp.ArrayContains,
    exp.Nullif,
)
COMPARING_NAMED = frozenset({"prefix", "suffix", "jaccard", "hamming", "mismatches", "damerau_levenshtein"})


def allowed(node: exp.Func) -> bool:
    """Whether the call ``node`` may run."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower() in NAMED
    return type(node) in TYPED


def comparing(node: exp.Expr) -> bool:
    """Whether ``node`` compares its arguments with a value (a predicate in disguise)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower() in COMPARING_NAMED
    return isinstance(node, COMPARING)


def name_of(node: exp.Expr) -> str:
    """The name a caller wrote for the call ``node``, as DuckDB would read it."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql(dialect="duckdb", comments=False).split("(", 1)[0].strip().lower() or node.key
