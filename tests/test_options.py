"""Options: checked where they are written, defaults scoped by ``pdpar.config``."""

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
