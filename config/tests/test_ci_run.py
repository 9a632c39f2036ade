""".ci/run on a simulated machine: a bare Debian 12 with only python3, then the same
machine again, then one whose PostgreSQL is installed but stopped.

apt-get, pg_ctlcluster, pg_isready, redis-server, redis-cli, python3 and make are stubs
that keep the machine's state in files (an installed package appears, a started server
answers) and log each call; CI_SYSROOT moves /etc and /usr/*bin into a temporary
directory. `pg_ctlcluster start` exits 2 on a running cluster, as the real one does.
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    "make", "python3-venv", "postgresql", "redis-server", "chromium", "gettext", "pgbouncer",
    "nginx",
]  # fmt: skip
REAL_TOOLS = ["dirname", "ls", "sort", "tail", "sed", "mkdir", "seq", "sleep"]
DEBIAN_HBA = """\
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""

STUBS = {
    "apt-get": r"""
echo "$*" >> "$STATE/apt.log"
[ "$1" = install ] || exit 0
for package in "$@"; do
    case "$package" in
        make) printf '#!/bin/bash\necho "$*" >> "$STATE/make.log"\n' > "$BIN/make"
              /bin/chmod +x "$BIN/make" ;;
        python3-venv) /usr/bin/touch "$STATE/ensurepip" ;;
        postgresql) /bin/mkdir -p "$SYSROOT/etc/postgresql/15/main"
                    /bin/cp "$STATE/debian_hba" "$SYSROOT/etc/postgresql/15/main/pg_hba.conf"
                    /bin/cp "$STATE/pg_ctlcluster" "$STATE/pg_isready" "$BIN/"
                    /usr/bin/touch "$STATE/pg_running" ;;  # apt starts the new cluster
        redis-server) /bin/cp "$STATE/redis-server" "$STATE/redis-cli" "$BIN/" ;;
        chromium) /bin/mkdir -p "$SYSROOT/usr/bin"; /usr/bin/touch "$SYSROOT/usr/bin/chromium"
                  /bin/chmod +x "$SYSROOT/usr/bin/chromium" ;;
        gettext) printf '#!/bin/bash\n' > "$BIN/msgfmt"; /bin/chmod +x "$BIN/msgfmt" ;;
        pgbouncer|nginx) /bin/mkdir -p "$SYSROOT/usr/sbin"
                         /usr/bin/touch "$SYSROOT/usr/sbin/$package"
                         /bin/chmod +x "$SYSROOT/usr/sbin/$package" ;;
    esac
done
""",
    "python3": '[ -e "$STATE/ensurepip" ]',
}
# Commands that a package brings: apt-get copies them into bin.
PACKAGED_STUBS = {
    "pg_ctlcluster": r"""
echo "${@: -1}" >> "$STATE/pg_ctlcluster.log"
case "${@: -1}" in
    status) [ -e "$STATE/pg_running" ] || exit 3 ;;
    start) if [ -e "$STATE/pg_running" ]; then echo "Cluster is already running." >&2; exit 2; fi
           /usr/bin/touch "$STATE/pg_running" ;;
    reload) [ -e "$STATE/pg_running" ] || exit 1 ;;
esac
""",
    "pg_isready": '[ -e "$STATE/pg_running" ]',
    "redis-server": 'echo "$*" >> "$STATE/redis.log"; /usr/bin/touch "$STATE/redis_running"',
    "redis-cli": '[ -e "$STATE/redis_running" ]',
}


class Machine:
    def __init__(self, path: Path):
        self.bin, self.state, self.sysroot = path / "bin", path / "state", path / "sysroot"
        for directory in (self.bin, self.state, self.sysroot):
            directory.mkdir()
        for tool in REAL_TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))
        for name, body in STUBS.items():
            self._script(self.bin / name, body)
        for name, body in PACKAGED_STUBS.items():
            self._script(self.state / name, body)
        (self.state / "debian_hba").write_text(DEBIAN_HBA)

    def _script(self, path: Path, body: str) -> None:
        path.write_text(f"#!/bin/bash\n{body}\n")
        path.chmod(0o755)

    def install(self, *packages: str) -> None:
        apt = [self.bin / "apt-get", "install", *packages]
        subprocess.run(apt, env=self.env, check=True)  # noqa: S603 - the stub above
        (self.state / "apt.log").unlink()

    @property
    def env(self) -> dict:
        return {
            "PATH": str(self.bin),
            "STATE": str(self.state),
            "BIN": str(self.bin),
            "SYSROOT": str(self.sysroot),
            "CI_SYSROOT": str(self.sysroot),
        }

    def run_ci(self) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our CI script
            ["/bin/bash", ROOT / ".ci" / "run"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def log(self, name: str) -> list[str]:
        path = self.state / f"{name}.log"
        return path.read_text().splitlines() if path.exists() else []

    @property
    def hba(self) -> str:
        return (self.sysroot / "etc/postgresql/15/main/pg_hba.conf").read_text()


@pytest.fixture
def machine(tmp_path):
    return Machine(tmp_path)


def test_a_bare_machine_gets_everything_and_runs_the_tests(machine):
    result = machine.run_ci()

    assert result.returncode == 0, result.stdout + result.stderr
    assert machine.log("apt") == ["update -qq", "install -y -qq " + " ".join(PACKAGES)]
    # The cluster apt started is not started again (exit 2); it reloads the trust rules.
    assert machine.log("pg_ctlcluster") == ["status", "reload"]
    assert "127.0.0.1/32            trust" in machine.hba
    assert "::1/128                 trust" in machine.hba
    assert "peer" in machine.hba  # local socket rules untouched
    assert len(machine.log("redis")) == 1
    assert machine.log("make") == ["test"]


def test_a_second_run_changes_nothing(machine):
    assert machine.run_ci().returncode == 0
    apt, hba = machine.log("apt"), machine.hba

    result = machine.run_ci()

    assert result.returncode == 0, result.stdout + result.stderr
    assert machine.log("apt") == apt
    assert machine.hba == hba
    assert machine.log("pg_ctlcluster") == ["status", "reload"]
    assert len(machine.log("redis")) == 1
    assert machine.log("make") == ["test", "test"]


def test_an_installed_but_stopped_postgresql_is_started_and_its_auth_left_alone(machine):
    machine.install(*PACKAGES)
    (machine.state / "pg_running").unlink()  # after a reboot

    result = machine.run_ci()

    assert result.returncode == 0, result.stdout + result.stderr
    assert machine.log("apt") == []
    assert machine.log("pg_ctlcluster") == ["status", "start"]
    assert machine.hba == DEBIAN_HBA  # not this script's cluster: its rules are the owner's
    assert machine.log("make") == ["test"]
