"""Options: checked where they are written, defaults scoped by ``pdpar.config``."""

import re
import threading

import pandas as pd
import pytest

import pdpar


@pytest.mark.parametrize(
    "option, value, error, words",
    [
        ("n_jobs", 0, ValueError, "n_jobs"),
        ("n_jobs", 1.5, TypeError, "n_jobs"),
        ("n_jobs", True, TypeError, "n_jobs"),
        ("n_jobs", "4", TypeError, "-1 for all usable CPUs"),
        ("backend", 3, TypeError, "'processes'"),
        ("backend", "", ValueError, "'threads'"),
        ("chunksize", 0, ValueError, "chunksize"),
        ("chunksize", "big", TypeError, "chunksize"),
        ("max_inflight", -1, ValueError, "positive int or None"),
        ("max_inflight", 0, ValueError, "positive int or None"),
        ("max_inflight", 2.5, TypeError, "positive int or None"),
        ("progress", "yes", TypeError, "tqdm"),
        ("jit", "maybe", ValueError, "'auto'"),
        ("jit", None, ValueError, "'auto'"),
    ],
)
def test_bad_option_value_names_the_option_and_accepted_values(option, value, error, words):
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(error, match=option) as info:
        df.par(**{option: value})
    assert words in str(info.value)
    with pytest.raises(error, match=option):
        pdpar.config(**{option: value})


def test_unknown_option_is_a_type_error_listing_the_valid_ones():
    with pytest.raises(TypeError, match="n_job.*valid options: n_jobs, backend"):
        pd.Series([1]).par(n_job=2)
    with pytest.raises(TypeError, match="chunk_size.*valid options: .*chunksize"):
        pd.Series([1]).par(chunk_size=3)


@pytest.mark.parametrize("name, meant", [("n_job", "n_jobs"), ("chunk_size", "chunksize"),
                                         ("progres", "progress"), ("broadcasts", "broadcast")])
def test_a_misspelled_option_suggests_the_closest(name, meant):
    with pytest.raises(TypeError, match=f"did you mean '{meant}'"):
        pd.Series([1]).par(**{name: 1})
    with pytest.raises(TypeError, match=f"did you mean '{meant}'"):
        pdpar.config(**{name: 1})


@pytest.mark.parametrize("name, meant", [("proc", "processes"), ("thread", "threads"),
                                         ("Processes", "processes"), ("dsk", "dask"),
                                         ("lokky", "loky")])
def test_an_unknown_backend_is_refused_where_it_is_written(name, meant):
    s = pd.Series([1.0, 2.0])
    for write in (lambda: s.par(backend=name), lambda: pdpar.config(backend=name),
                  lambda: pdpar.engine(backend=name)):
        with pytest.raises(ValueError, match=f"unknown backend '{name}' .did you mean "
                                             f"'{meant}'.*registered joblib backend"):
            write()


def test_joblibs_registered_backends_are_accepted():
    for name in ["loky", "threading", "sequential", "multiprocessing"]:
        assert pd.Series([1]).par(backend=name).options.backend == name


def keyword(x, n_jobs=1):
    return x * n_jobs


@pytest.mark.parametrize("call, method", [
    (lambda df: df.par.apply(lambda row: row.a, axis=1, n_jobs=2), "df.par(n_jobs=2).apply"),
    (lambda df: df.par.map(abs, backend="threads"), "df.par(backend='threads').map"),
    (lambda df: df["a"].par.apply(lambda x: x, jit=True), "s.par(jit=True).apply"),
    (lambda df: df["a"].par.apply(lambda x: x, chunksize=5), "s.par(chunksize=5).apply"),
    (lambda df: df.par.groupby("a").apply(len, progress=True),
     "df.par(progress=True).groupby(...).apply"),
])
def test_options_given_to_the_method_say_they_go_in_par(call, method):
    df = pd.DataFrame({"a": [1.0, 2.0]})
    with pytest.raises(TypeError, match=re.escape(f"options go in par(...), as in {method}(...)")):
        call(df)


def test_a_function_taking_a_keyword_named_like_an_option_receives_it():
    s = pd.Series([1.0, 2.0])
    pd.testing.assert_series_equal(s.par.map(keyword, n_jobs=3), s.map(keyword, n_jobs=3))
    df = pd.DataFrame({"a": [1.0, 2.0]})
    by_row = lambda row, **kwargs: row.a * kwargs["chunksize"]  # noqa: E731
    pd.testing.assert_series_equal(df.par.apply(by_row, axis=1, chunksize=2),
                                   df.apply(by_row, axis=1, chunksize=2))


def test_config_sets_defaults_inside_the_block_and_restores_them():
    assert pdpar.current_options().backend == "auto"
    with pdpar.config(backend="threads", n_jobs=3):
        assert pdpar.current_options().backend == "threads"
        assert pd.DataFrame({"a": [1]}).par.options.n_jobs == 3
        with pdpar.config(chunksize=7):
            assert pdpar.current_options().chunksize == 7
            assert pdpar.current_options().backend == "threads"
        assert pdpar.current_options().chunksize is None
    assert pdpar.current_options() == pdpar.Options()


def test_accessor_options_override_config():
    with pdpar.config(backend="threads", n_jobs=3):
        options = pd.Series([1]).par(n_jobs=2).options
    assert (options.backend, options.n_jobs) == ("threads", 2)


def test_config_is_local_to_the_thread_that_entered_it():
    seen = []
    with pdpar.config(backend="serial"):
        thread = threading.Thread(target=lambda: seen.append(pdpar.current_options().backend))
        thread.start()
        thread.join()
    assert seen == ["auto"]


def test_options_given_to_par_accumulate():
    options = pd.Series([1]).par(n_jobs=2)(chunksize=5).options
    assert (options.n_jobs, options.chunksize) == (2, 5)
