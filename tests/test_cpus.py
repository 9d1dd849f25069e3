"""``usable_cpu_count``: affinity, cgroup v1/v2 quotas of the process's own cgroup, loky's count.

The cgroup parsing is tested on fake ``/proc/self`` and cgroup trees in ``tmp_path``; the
affinity and the cgroup quota are also tested for real, in subprocesses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pytest

from pdpar import competing, cpus
from pdpar.cpus import _cgroup_quota_cpus, usable_cpu_count

# --------------------------------------------------------------------------- fake trees


def mount(fstype: str, root: str, mount_point: str, super_options: str = "rw") -> str:
    """Return a /proc/self/mountinfo line for a cgroup mount."""
    options = "rw,nosuid,nodev,noexec,relatime shared:4"
    return f"30 25 0:26 {root} {mount_point} {options} - {fstype} {fstype} {super_options}"


def fake_root(
    tmp_path: Path, cgroup: str, mounts: list[str], files: dict[str, str] | None = None
) -> str:
    """Write /proc/self/cgroup, /proc/self/mountinfo and ``files`` under ``tmp_path``."""
    proc_self = tmp_path / "proc" / "self"
    proc_self.mkdir(parents=True)
    (proc_self / "cgroup").write_text(cgroup)
    (proc_self / "mountinfo").write_text(
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n" + "\n".join(mounts) + "\n"
    )
    for path, text in (files or {}).items():
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return str(tmp_path)


V2 = [mount("cgroup2", "/", "/sys/fs/cgroup", "rw,nsdelegate")]


def test_v2_max_is_no_limit(tmp_path):
    root = fake_root(
        tmp_path,
        "0::/user.slice/app\n",
        V2,
        {"/sys/fs/cgroup/user.slice/app/cpu.max": "max 100000\n"},
    )
    assert _cgroup_quota_cpus(root) is None


@pytest.mark.parametrize(
    "cpu_max, expected",
    [
        ("150000 100000\n", 2),
        ("100000 100000", 1),
        ("50000 100000", 1),
        ("400000 100000", 4),
        ("250000 50000", 5),
        ("1 1000000", 1),
    ],
)
def test_v2_quota_is_rounded_up(tmp_path, cpu_max, expected):
    root = fake_root(tmp_path, "0::/app\n", V2, {"/sys/fs/cgroup/app/cpu.max": cpu_max})
    assert _cgroup_quota_cpus(root) == expected


def test_v2_parent_with_the_tighter_limit_wins(tmp_path):
    root = fake_root(
        tmp_path,
        "0::/a/b/c\n",
        V2,
        {
            "/sys/fs/cgroup/a/cpu.max": "max 100000",
            "/sys/fs/cgroup/a/b/cpu.max": "200000 100000",
            "/sys/fs/cgroup/a/b/c/cpu.max": "800000 100000",
        },
    )
    assert _cgroup_quota_cpus(root) == 2


def test_v2_limit_at_the_mount_point_itself_counts(tmp_path):
    root = fake_root(tmp_path, "0::/a\n", V2, {"/sys/fs/cgroup/cpu.max": "300000 100000"})
    assert _cgroup_quota_cpus(root) == 3


@pytest.mark.parametrize("controllers", ["cpu", "cpu,cpuacct", "cpuacct,cpu"])
def test_v1_quota(tmp_path, controllers):
    mount_point = f"/sys/fs/cgroup/{controllers}"
    root = fake_root(
        tmp_path,
        f"5:memory:/x\n4:{controllers}:/batch/job\n0::/\n",
        [
            mount("cgroup", "/", "/sys/fs/cgroup/memory", "rw,memory"),
            mount("cgroup", "/", mount_point, f"rw,{controllers}"),
        ],
        {
            f"{mount_point}/batch/job/cpu.cfs_quota_us": "250000\n",
            f"{mount_point}/batch/job/cpu.cfs_period_us": "100000\n",
        },
    )
    assert _cgroup_quota_cpus(root) == 3


def test_v1_quota_minus_one_is_no_limit(tmp_path):
    mount_point = "/sys/fs/cgroup/cpu,cpuacct"
    root = fake_root(
        tmp_path,
        "4:cpu,cpuacct:/job\n",
        [mount("cgroup", "/", mount_point, "rw,cpu,cpuacct")],
        {
            f"{mount_point}/job/cpu.cfs_quota_us": "-1\n",
            f"{mount_point}/job/cpu.cfs_period_us": "100000\n",
            f"{mount_point}/cpu.cfs_quota_us": "-1\n",
            f"{mount_point}/cpu.cfs_period_us": "100000\n",
        },
    )
    assert _cgroup_quota_cpus(root) is None


def test_v1_parent_limit_applies_to_child(tmp_path):
    mount_point = "/sys/fs/cgroup/cpu"
    root = fake_root(
        tmp_path,
        "1:cpu:/outer/inner\n",
        [mount("cgroup", "/", mount_point, "rw,cpu")],
        {
            f"{mount_point}/outer/cpu.cfs_quota_us": "100000",
            f"{mount_point}/outer/cpu.cfs_period_us": "100000",
            f"{mount_point}/outer/inner/cpu.cfs_quota_us": "-1",
            f"{mount_point}/outer/inner/cpu.cfs_period_us": "100000",
        },
    )
    assert _cgroup_quota_cpus(root) == 1


def test_v1_separate_cpu_and_cpuacct_hierarchies(tmp_path):
    # As on the dev machine: cpu and cpuacct mounted apart; only the cpu one counts.
    root = fake_root(
        tmp_path,
        "2:cpuacct:/a\n1:cpu:/b\n0::/\n",
        [
            mount("cgroup", "/", "/sys/fs/cgroup/cpuacct", "rw,cpuacct"),
            mount("cgroup", "/", "/sys/fs/cgroup/cpu", "rw,cpu"),
            mount("cgroup2", "/", "/sys/fs/cgroup/unified", "rw"),
        ],
        {
            "/sys/fs/cgroup/cpuacct/a/cpu.cfs_quota_us": "100000",
            "/sys/fs/cgroup/cpuacct/a/cpu.cfs_period_us": "100000",
            "/sys/fs/cgroup/cpu/b/cpu.cfs_quota_us": "300000",
            "/sys/fs/cgroup/cpu/b/cpu.cfs_period_us": "100000",
        },
    )
    assert _cgroup_quota_cpus(root) == 3


def test_hybrid_v1_and_v2_take_the_minimum(tmp_path):
    root = fake_root(
        tmp_path,
        "1:cpu:/b\n0::/c\n",
        [
            mount("cgroup", "/", "/sys/fs/cgroup/cpu", "rw,cpu"),
            mount("cgroup2", "/", "/sys/fs/cgroup/unified", "rw"),
        ],
        {
            "/sys/fs/cgroup/cpu/b/cpu.cfs_quota_us": "300000",
            "/sys/fs/cgroup/cpu/b/cpu.cfs_period_us": "100000",
            "/sys/fs/cgroup/unified/c/cpu.max": "200000 100000",
        },
    )
    assert _cgroup_quota_cpus(root) == 2


def test_v1_container_mount_whose_root_is_the_cgroup_itself(tmp_path):
    # Docker without a cgroup namespace: /proc/self/cgroup shows the host path and the
    # container's /sys/fs/cgroup/cpu,cpuacct is a mount of exactly that cgroup.
    mount_point = "/sys/fs/cgroup/cpu,cpuacct"
    root = fake_root(
        tmp_path,
        "4:cpu,cpuacct:/docker/0123abcd\n",
        [mount("cgroup", "/docker/0123abcd", mount_point, "ro,cpu,cpuacct")],
        {
            f"{mount_point}/cpu.cfs_quota_us": "150000",
            f"{mount_point}/cpu.cfs_period_us": "100000",
        },
    )
    assert _cgroup_quota_cpus(root) == 2


def test_v2_container_mount_root_is_an_ancestor_of_the_cgroup(tmp_path):
    root = fake_root(
        tmp_path,
        "0::/kubepods/pod1/ctr\n",
        [mount("cgroup2", "/kubepods/pod1", "/sys/fs/cgroup")],
        {
            "/sys/fs/cgroup/cpu.max": "100000 100000",  # the pod's limit
            "/sys/fs/cgroup/ctr/cpu.max": "max 100000",
            # Would be /kubepods/pod1/kubepods/pod1/ctr if the root were not stripped:
            "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max": "900000 100000",
        },
    )
    assert _cgroup_quota_cpus(root) == 1


def test_cgroup_not_visible_through_the_mount_is_no_limit(tmp_path):
    root = fake_root(
        tmp_path,
        "0::/elsewhere\n",
        [mount("cgroup2", "/docker/abc", "/sys/fs/cgroup")],
        {"/sys/fs/cgroup/cpu.max": "100000 100000"},
    )
    assert _cgroup_quota_cpus(root) is None


def test_cgroup_outside_our_namespace_is_no_limit(tmp_path):
    root = fake_root(
        tmp_path, "0::/../../other\n", V2, {"/sys/fs/cgroup/other/cpu.max": "100000 100000"}
    )
    assert _cgroup_quota_cpus(root) is None


def test_escaped_mount_point(tmp_path):
    root = fake_root(
        tmp_path,
        "0::/a\n",
        [mount("cgroup2", "/", "/mnt/my\\040cgroup")],
        {"/mnt/my cgroup/a/cpu.max": "200000 100000"},
    )
    assert _cgroup_quota_cpus(root) == 2


def test_last_mount_on_a_mount_point_is_the_visible_one(tmp_path):
    root = fake_root(
        tmp_path,
        "0::/a\n",
        [mount("cgroup2", "/nowhere", "/sys/fs/cgroup"), mount("cgroup2", "/", "/sys/fs/cgroup")],
        {"/sys/fs/cgroup/a/cpu.max": "200000 100000"},
    )
    assert _cgroup_quota_cpus(root) == 2


@pytest.mark.parametrize(
    "cpu_max",
    [
        "",
        "\n",
        "garbage",
        "abc def",
        "150000 0",
        "-5 100000",
        "0 100000",
        "1.5 100000",
        "max",
        "100000 x",
        "\x00\x01\x02",
    ],
)
def test_garbage_cpu_max_is_no_limit(tmp_path, cpu_max):
    root = fake_root(tmp_path, "0::/a\n", V2, {"/sys/fs/cgroup/a/cpu.max": cpu_max})
    assert _cgroup_quota_cpus(root) is None


def test_v1_missing_period_is_no_limit(tmp_path):
    root = fake_root(
        tmp_path,
        "1:cpu:/a\n",
        [mount("cgroup", "/", "/sys/fs/cgroup/cpu", "rw,cpu")],
        {"/sys/fs/cgroup/cpu/a/cpu.cfs_quota_us": "100000"},
    )
    assert _cgroup_quota_cpus(root) is None


@pytest.mark.parametrize(
    "cgroup, mountinfo",
    [
        ("", ""),
        ("garbage\n:::\n0:\n", "garbage\n- - -\n1 2 3 - cgroup2\n"),
        ("0::relative\n", None),
        ("0::/a\n", "\n\n   \n"),
        ("\xff\xfe::/a\n", "30 25 0:26 / \xff - cgroup2 cgroup2 rw\n"),
    ],
)
def test_garbage_proc_files_are_no_limit(tmp_path, cgroup, mountinfo):
    root = fake_root(tmp_path, cgroup, V2, {"/sys/fs/cgroup/a/cpu.max": "100000 100000"})
    if mountinfo is not None:
        (tmp_path / "proc/self/mountinfo").write_text(mountinfo)
    assert _cgroup_quota_cpus(root) is None


def test_binary_proc_files_do_not_raise(tmp_path):
    root = fake_root(tmp_path, "", V2)
    (tmp_path / "proc/self/cgroup").write_bytes(b"0::/\xff\xfe\n")
    (tmp_path / "proc/self/mountinfo").write_bytes(os.urandom(4096))
    assert _cgroup_quota_cpus(root) is None


@pytest.mark.parametrize("missing", ["cgroup", "mountinfo"])
def test_missing_proc_files_are_no_limit(tmp_path, missing):
    root = fake_root(tmp_path, "0::/a\n", V2, {"/sys/fs/cgroup/a/cpu.max": "100000 100000"})
    (tmp_path / "proc/self" / missing).unlink()
    assert _cgroup_quota_cpus(root) is None


def test_missing_root_is_no_limit(tmp_path):
    assert _cgroup_quota_cpus(str(tmp_path / "does-not-exist")) is None


def test_unreadable_cpu_max_is_no_limit(tmp_path):
    # A directory where the file should be: open() fails even as root.
    root = fake_root(tmp_path, "0::/a\n", V2)
    (tmp_path / "sys/fs/cgroup/a/cpu.max").mkdir(parents=True)
    assert _cgroup_quota_cpus(root) is None


# --------------------------------------------------------------------------- this process


def test_usable_cpu_count_is_the_minimum_of_the_limits():
    n = usable_cpu_count()
    assert isinstance(n, int)
    assert 1 <= n <= (os.cpu_count() or 1)
    assert n <= joblib.cpu_count()
    if hasattr(os, "sched_getaffinity"):
        assert n <= len(os.sched_getaffinity(0))
    quota = _cgroup_quota_cpus()
    if quota is not None:
        assert n <= quota


def test_loky_max_cpu_count_is_honoured(monkeypatch):
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")
    assert usable_cpu_count() == 1


def test_malformed_loky_max_cpu_count_does_not_raise(monkeypatch):
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "lots")
    n = usable_cpu_count()
    assert 1 <= n <= (os.cpu_count() or 1)


def test_the_cgroup_files_are_read_at_most_once_per_period(monkeypatch):
    reads = []

    def quota(root="/"):
        reads.append(root)
        return 1

    monkeypatch.setattr(cpus, "_cgroup_quota_cpus", quota)
    monkeypatch.setattr(cpus, "_last", None)
    assert [usable_cpu_count() for _ in range(5)] == [1] * 5
    assert len(reads) == 1
    monkeypatch.setattr(cpus, "REREAD_SECONDS", 0.0)  # the period is over: read again
    assert usable_cpu_count() == 1
    assert len(reads) == 2


def test_a_new_loky_max_cpu_count_is_seen_at_once(monkeypatch):
    monkeypatch.delenv("LOKY_MAX_CPU_COUNT", raising=False)
    usable_cpu_count()
    monkeypatch.setenv("LOKY_MAX_CPU_COUNT", "1")
    assert usable_cpu_count() == 1


# --------------------------------------------------------------------------- real subprocesses

# Loads cpus.py by path so the child does not import the whole pdpar package (pandas, numba).
CHILD = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("_pdpar_cpus", sys.argv[1])
cpus = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cpus)
import joblib
{before}
print(json.dumps([cpus.usable_cpu_count(), cpus._cgroup_quota_cpus(), joblib.cpu_count()]))
"""


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("LOKY_MAX_CPU_COUNT", None)
    return env


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no os.sched_setaffinity")
def test_affinity_of_one_cpu_gives_one_for_real():
    cpu = min(os.sched_getaffinity(0))
    code = CHILD.format(before=f"import os; os.sched_setaffinity(0, {{{cpu}}})")
    out = subprocess.run(
        [sys.executable, "-c", code, cpus.__file__],
        capture_output=True,
        text=True,
        timeout=30,
        env=child_env(),
        check=True,
    )
    assert json.loads(out.stdout)[0] == 1


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no os.sched_setaffinity")
def test_a_new_affinity_is_seen_at_once_for_real():
    cpu = min(os.sched_getaffinity(0))
    code = CHILD.format(before=f"import os; cpus.usable_cpu_count(); "
                               f"os.sched_setaffinity(0, {{{cpu}}})")
    out = subprocess.run([sys.executable, "-c", code, cpus.__file__], capture_output=True,
                         text=True, timeout=30, env=child_env(), check=True)
    assert json.loads(out.stdout)[0] == 1


def _cpu_hierarchies() -> list[tuple[str, str, list[str]]]:
    """Return (version, mount point, mount options) of the mounts that carry the cpu controller."""
    found = []
    try:
        with open("/proc/self/mountinfo") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if "-" not in fields:
            continue
        sep = fields.index("-")
        fstype, options = fields[sep + 1], fields[5].split(",")
        mount_point = fields[4]
        if fstype == "cgroup" and "cpu" in fields[sep + 3].split(","):
            found.append(("v1", mount_point, options))
        elif fstype == "cgroup2":
            found.append(("v2", mount_point, options))
    return found


def _hierarchy_or_skip(version: str) -> str:
    if not sys.platform.startswith("linux"):
        pytest.skip("cgroups are Linux-only")
    if os.geteuid() != 0:
        pytest.skip("creating a cgroup needs root")
    candidates = [(mp, opts) for v, mp, opts in _cpu_hierarchies() if v == version]
    if not candidates:
        pytest.skip(f"no cgroup {version} hierarchy with the cpu controller is mounted")
    mount_point, options = candidates[-1]
    if "ro" in options or not os.access(mount_point, os.W_OK):
        pytest.skip(f"cgroup {version} hierarchy at {mount_point} is read-only")
    if version == "v2":
        try:
            subtree = Path(mount_point, "cgroup.subtree_control").read_text().split()
        except OSError as exc:
            pytest.skip(f"cannot read {mount_point}/cgroup.subtree_control: {exc}")
        if "cpu" not in subtree:
            pytest.skip(f"cpu controller not enabled in cgroup2 subtree at {mount_point}")
    return mount_point


def _write(path: Path, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def _rmdir_when_empty(path: Path) -> None:
    deadline = time.monotonic() + 2
    while path.exists():
        try:
            path.rmdir()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


@pytest.mark.parametrize("version", ["v1", "v2"])
@pytest.mark.parametrize("limit_on", ["own", "parent"])
def test_cgroup_quota_of_own_cgroup_for_real(version, limit_on):
    """A child moved into a cgroup with a 1-CPU quota (on it, or on its parent) reports 1."""
    mount_point = _hierarchy_or_skip(version)
    outer = Path(mount_point, f"pdpar-test-{os.getpid()}-{limit_on}")
    inner = outer / "inner"
    made: list[Path] = []
    proc = None
    try:
        try:
            outer.mkdir()
            made.append(outer)
            if version == "v2":
                _write(outer / "cgroup.subtree_control", "+cpu")
            inner.mkdir()
            made.append(inner)
            limited = inner if limit_on == "own" else outer
            if version == "v1":
                _write(limited / "cpu.cfs_period_us", "100000")
                _write(limited / "cpu.cfs_quota_us", "100000")
            else:
                _write(limited / "cpu.max", "100000 100000")
        except OSError as exc:
            pytest.skip(f"cannot create a cgroup {version} with a CPU quota: {exc}")

        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD.format(before="sys.stdin.readline()"), cpus.__file__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        try:
            _write(inner / "cgroup.procs", str(proc.pid))
        except OSError as exc:
            pytest.skip(f"cannot move a process into the test cgroup: {exc}")
        assert f"/{outer.name}/inner" in Path(f"/proc/{proc.pid}/cgroup").read_text()
        out, err = proc.communicate("go\n", timeout=30)
        assert proc.returncode == 0, err
        usable, quota, _loky = json.loads(out)
        assert quota == 1
        assert usable == 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        for path in reversed(made):
            _rmdir_when_empty(path)


SPIN = "import time\nend = time.monotonic() + 60\nwhile time.monotonic() < end: pass\n"


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="no /proc")
def test_running_processes_are_read_with_their_nice_values():
    niced = subprocess.Popen([sys.executable, "-c", SPIN], preexec_fn=lambda: os.nice(19))
    equal = subprocess.Popen([sys.executable, "-c", SPIN])
    try:
        deadline = time.monotonic() + 10
        seen: dict[int, int] = {}
        while time.monotonic() < deadline and not {niced.pid, equal.pid} <= seen.keys():
            seen.update(competing.running_processes())
            time.sleep(0.05)
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert seen.get(niced.pid) == min(mine + 19, 19) and seen.get(equal.pid) == mine
        assert os.getpid() not in seen
    finally:
        niced.kill()
        equal.kill()
        niced.wait()
        equal.wait()


def test_the_competing_share_counts_processes_niced_at_most_as_this_one(monkeypatch):
    mine = os.getpriority(os.PRIO_PROCESS, 0)
    # two others running in this process's own session, one niced above it: half compete
    monkeypatch.setattr(competing, "running_processes",
                        lambda: {os.getpid(): mine + 1, os.getppid(): mine})
    monkeypatch.setattr(competing, "_competing", None)
    assert competing.competing_share() == 0.5
    monkeypatch.setattr(competing, "running_processes", lambda: {})
    monkeypatch.setattr(competing, "_competing", None)
    assert competing.competing_share() is None  # only threads seen: nothing to say


def test_with_autogroups_another_sessions_niced_process_competes_by_its_groups_nice(
        monkeypatch):
    monkeypatch.setattr(competing, "_autogroups_enabled", lambda: True)
    mine = (("/autogroup-1", 0), 0)
    assert competing._competes((("/autogroup-2", 0), 19), mine)  # nice -n 19 in a terminal
    assert not competing._competes((("/autogroup-2", 19), 19), mine)  # its group niced
    assert not competing._competes((("/autogroup-1", 0), 19), mine)  # the same session
    assert competing._competes((("/autogroup-1", 0), 0), mine)
    monkeypatch.setattr(competing, "_autogroups_enabled", lambda: False)
    assert not competing._competes((("/autogroup-2", 0), 19), mine)
    assert competing._competes((None, 0), mine)
