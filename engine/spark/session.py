"""The Spark session kece runs on. pyspark is imported here and only when a command asks for Spark,
so nothing changes for a user without it; without pyspark or without Java 17+ the user hears what to
install (exit 2), not a traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import Say, UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_MIN = 17
LOCAL_SHUFFLE_PER_CORE = 2
INSTALL = Say("install it with: pip install 'kece[spark]' (README: Spark)",
              "请安装:pip install 'kece[spark]'(见 README 的 Spark 一节)")
# pyspark 4.x warns that pandas 3 is not yet fully supported; kece uses pandas <-> Arrow through
# mapInPandas and applyInPandas only, which its tests check row by row on pandas 3.
PANDAS_WARNING = "PySpark does not yet fully support pandas"
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")


def quiet_pandas_warning() -> None:
    warnings.filterwarnings("ignore", message=PANDAS_WARNING, category=FutureWarning)


def require_pyspark() -> None:
    """A usage error naming what to install when pyspark is missing."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise UsageError(Say(f"--engine spark needs pyspark, which is not installed; {INSTALL.en}",
                             f"--engine spark 需要 pyspark,但尚未安装;{INSTALL.zh}")) from None


def java_version(java: str) -> int | None:
    """The major version `java -version` reports (17 for 17.0.15, 8 for 1.8.0), None if it does not run."""
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if not found:
        return None
    major = int(found.group(1))
    return int(found.group(2) or 0) if major == 1 else major


def find_java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


def require_java() -> None:
    java = find_java()
    how = Say("install Java 17 or later (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; macOS: "
              "brew install openjdk@17) or set JAVA_HOME",
              "请安装 Java 17 或更高版本(Debian/Ubuntu:apt-get install openjdk-17-jre-headless;"
              "macOS:brew install openjdk@17),或设置 JAVA_HOME")
    if java is None:
        raise UsageError(Say(f"--engine spark needs Java, which was not found; {how.en}",
                             f"--engine spark 需要 Java,但没有找到;{how.zh}"))
    version = java_version(java)
    if version is None or version < JAVA_MIN:
        shown = "cannot be run" if version is None else f"is Java {version}"
        shown_zh = "无法运行" if version is None else f"是 Java {version}"
        raise UsageError(Say(f"--engine spark needs Java {JAVA_MIN}+; {java} {shown}; {how.en}",
                             f"--engine spark 需要 Java {JAVA_MIN}+;{java} {shown_zh};{how.zh}"))


def active_session():
    """The session a spark-submit job (or a notebook) already runs, if any."""
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


def spark_session(master: str | None = None, app_name: str = "kece") -> SparkSession:
    """The active Spark session (as under spark-submit), or a new one on `master` (default local[*]):
    no web UI, no progress bars, errors-only logging once started, Python workers on this interpreter locally."""
    require_pyspark()
    from pyspark.sql import SparkSession

    quiet_pandas_warning()
    active = active_session()
    if active is not None and master is None:
        return active
    require_java()
    master = master or "local[*]"
    local = master.startswith("local")
    if local:  # executors are this machine: the same Python, with pandas and kece
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYTHONWARNINGS", f"ignore:{PANDAS_WARNING}:FutureWarning")
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.session.timeZone", "UTC"))
    if local:  # a few shuffle partitions per core, not the cluster default of 200; errors only in the log
        builder = (builder.config("spark.sql.shuffle.partitions", str(LOCAL_SHUFFLE_PER_CORE * _cores(master)))
                   .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: Java, memory, a port; py4j and Spark raise their own types
        raise UsageError(Say(f"Spark did not start on {master}: {exc}", f"Spark 无法在 {master} 上启动:{exc}")) \
            from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def _cores(master: str) -> int:
    """The cores of local[N] (local: 1, local[*]: this machine's)."""
    found = re.match(r"local\[(\d+|\*)", master)
    if not found:
        return 1
    return os.cpu_count() or 1 if found.group(1) == "*" else int(found.group(1))
