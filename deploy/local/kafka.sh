#!/usr/bin/env bash
# A single-node Apache Kafka 4.x broker (KRaft, broker+controller in one JVM) on 127.0.0.1, without Docker.
#
# Usage: deploy/local/kafka.sh fetch|start|stop|status
#   fetch   download the broker jars from Maven Central into $KAFKA_LIBS_DIR (no-op when already there)
#   start   fetch if needed, format the storage once, start the broker in the background and wait until it
#           answers (no-op when it already runs and answers); on failure print the log's tail and exit 1
#   stop    SIGTERM, wait up to $KAFKA_STOP_TIMEOUT s for a clean shutdown, then SIGKILL; remove the pid file
#   status  print "running" (exit 0) or "stopped" (exit 1)
#
# Environment (all optional):
#   KAFKA_VERSION          Kafka release (default 4.1.1; deploy/local/kafka/pom.xml holds the same default)
#   KAFKA_PORT             client listener on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller listener on 127.0.0.1 (default 9093)
#   KAFKA_HOME_DIR         data, config, pid file and logs (default <repo>/var/kafka)
#   KAFKA_LIBS_DIR         jar cache (default <repo>/.cache/kafka-$KAFKA_VERSION/libs), reused when complete
#   KAFKA_HEAP             JVM heap options (default "-Xmx512m -Xms256m")
#   KAFKA_JVM_OPTS         extra JVM options, appended
#   KAFKA_START_TIMEOUT    seconds to wait for the broker to answer (default 90)
#   KAFKA_STOP_TIMEOUT     seconds to wait for a clean shutdown before SIGKILL (default 30)
#   KAFKA_PROBE_PYTHON     a Python interpreter with kafka-python, used to ask the broker whether it answers
#                          (default: <repo>/.venv/bin/python when it has kafka-python, else `uv run python`)
#
# Layout of $KAFKA_HOME_DIR: server.properties (rendered on every start), data/ (log.dirs, formatted once),
# kafka.log (the broker's log4j2 log, rolled at 50 MB), kafka.out (the JVM's stdout/stderr), kafka.pid.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.1.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HOME_DIR="${KAFKA_HOME_DIR:-$REPO_ROOT/var/kafka}"
KAFKA_LIBS_DIR="${KAFKA_LIBS_DIR:-$REPO_ROOT/.cache/kafka-$KAFKA_VERSION/libs}"
# Absolute paths: the broker runs from its home folder.
KAFKA_HOME_DIR="$(realpath -m -- "$KAFKA_HOME_DIR")"
KAFKA_LIBS_DIR="$(realpath -m -- "$KAFKA_LIBS_DIR")"
KAFKA_HEAP="${KAFKA_HEAP:--Xmx512m -Xms256m}"
KAFKA_JVM_OPTS="${KAFKA_JVM_OPTS:-}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

POM="$SCRIPT_DIR/kafka/pom.xml"
TEMPLATE="$SCRIPT_DIR/kafka/server.properties.tmpl"
LOG4J2_CONFIG="$SCRIPT_DIR/kafka/log4j2.xml"
CONFIG="$KAFKA_HOME_DIR/server.properties"
DATA_DIR="$KAFKA_HOME_DIR/data"
LOG_DIR="$KAFKA_HOME_DIR"
PID_FILE="$KAFKA_HOME_DIR/kafka.pid"
COMPLETE_MARKER=".complete"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
    exit 2
}

require_java() {
    command -v java >/dev/null 2>&1 || die "java not found: install a JDK 17+ (Debian: apt-get install -y openjdk-17-jre-headless)"
}

classpath() { printf '%s/*' "$KAFKA_LIBS_DIR"; }

libs_complete() { [[ -f "$KAFKA_LIBS_DIR/$COMPLETE_MARKER" ]]; }

cmd_fetch() {
    if libs_complete; then
        return 0
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found: install Maven (Debian: apt-get install -y maven)"
    local parent tmp mvn_log
    parent="$(dirname "$KAFKA_LIBS_DIR")"
    mkdir -p "$parent"
    # Download into a private folder and rename it into place, so a concurrent or interrupted fetch never
    # leaves a half-filled cache behind.
    tmp="$(mktemp -d "$parent/.libs.XXXXXX")"
    mvn_log="$tmp.mvn.log"
    log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $KAFKA_LIBS_DIR"
    if ! (cd "$parent" && mvn -q -B -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
            dependency:copy-dependencies -DoutputDirectory="$tmp" >"$mvn_log" 2>&1); then
        sed "s/\x1b\[[0-9;]*m//g" "$mvn_log" >&2 || true
        rm -rf "$tmp" "$mvn_log"
        rmdir "$parent" 2>/dev/null || true
        die "could not fetch kafka_2.13:$KAFKA_VERSION with Maven"
    fi
    rm -f "$mvn_log"
    [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "Maven gave no kafka_2.13-$KAFKA_VERSION.jar"; }
    touch "$tmp/$COMPLETE_MARKER"
    if libs_complete; then
        rm -rf "$tmp"  # another fetch won the race
    else
        rm -rf "$KAFKA_LIBS_DIR"
        mv "$tmp" "$KAFKA_LIBS_DIR"
    fi
}

# The pid of our broker when it is alive, else nothing (a stale pid file is ignored).
running_pid() {
    local pid
    [[ -f "$PID_FILE" ]] || return 1
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    pid_alive "$pid" || return 1
    # Guard against pid reuse: the process must be a kafka.Kafka JVM.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
    printf '%s\n' "$pid"
}

# True when the process exists and is not a zombie.
pid_alive() {
    local state
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
    [[ -n "$state" && "$state" != "Z" && "$state" != "X" ]]
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

render_config() {
    mkdir -p "$KAFKA_HOME_DIR" "$DATA_DIR"
    sed -e "s|@PORT@|$KAFKA_PORT|g" \
        -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
        -e "s|@DATA_DIR@|$DATA_DIR|g" \
        "$TEMPLATE" >"$CONFIG.tmp"
    mv "$CONFIG.tmp" "$CONFIG"
}

java_tool() {
    java -Xmx256m -cp "$(classpath)" -Dlog4j2.configurationFile="$LOG4J2_CONFIG" \
        -Dkafka.logs.dir="$LOG_DIR" "$@"
}

format_storage() {
    if [[ -f "$DATA_DIR/meta.properties" ]]; then
        return 0
    fi
    local cluster_id
    cluster_id="$(java_tool kafka.tools.StorageTool random-uuid 2>>"$LOG_DIR/kafka.out" | tail -n 1)"
    [[ -n "$cluster_id" ]] || die "StorageTool random-uuid gave no cluster id (see $LOG_DIR/kafka.out)"
    log "formatting $DATA_DIR with cluster id $cluster_id"
    java_tool kafka.tools.StorageTool format --ignore-formatted --cluster-id "$cluster_id" --config "$CONFIG" \
        >>"$LOG_DIR/kafka.out" 2>&1 || { tail -n 30 "$LOG_DIR/kafka.out" >&2; die "StorageTool format failed"; }
}

# Sets PROBE to a command running a Python interpreter that has kafka-python (decided before the broker starts,
# so that a missing interpreter cannot leave a broker behind).
resolve_probe() {
    if [[ -n "${KAFKA_PROBE_PYTHON:-}" ]]; then
        PROBE=("$KAFKA_PROBE_PYTHON")
    elif [[ -x "$REPO_ROOT/.venv/bin/python" ]] && "$REPO_ROOT/.venv/bin/python" -c 'import kafka' 2>/dev/null; then
        PROBE=("$REPO_ROOT/.venv/bin/python")
    elif command -v uv >/dev/null 2>&1; then
        PROBE=(uv run --project "$REPO_ROOT" python)
    else
        die "no Python with kafka-python to probe the broker: set KAFKA_PROBE_PYTHON, or run uv sync"
    fi
}

# Waits until the broker at 127.0.0.1:$KAFKA_PORT answers a metadata request, for at most $1 seconds.
# Exit codes: 0 it answers, 1 timeout, 2 the broker process (pid $2) died.
wait_until_answering() {
    "${PROBE[@]}" - "127.0.0.1:$KAFKA_PORT" "$1" "${2:-0}" <<'PY'
import logging
import sys
import time

logging.basicConfig(level=logging.CRITICAL)
from kafka import KafkaAdminClient  # noqa: E402
from kafka.errors import KafkaConfigurationError  # noqa: E402

bootstrap, timeout, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + timeout
last_error = "no attempt"
while True:
    if pid:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            state = "X"
        if state in ("Z", "X"):
            sys.exit(2)
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            client_id="ddr-kafka-probe",
            request_timeout_ms=5000,
            bootstrap_timeout_ms=5000,
        )
        try:
            admin.list_topics()
            if admin.describe_cluster().get("brokers"):
                sys.exit(0)
            last_error = "no broker registered yet"
        finally:
            admin.close()
    except KafkaConfigurationError:
        raise
    except Exception as error:  # noqa: BLE001 - any other failure means "not yet"
        last_error = f"{type(error).__name__}: {error}"
    if time.monotonic() >= deadline:
        print(f"broker at {bootstrap} did not answer within {timeout:.0f} s: {last_error}", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.5)
PY
}

show_log_tail() {
    log "last lines of $LOG_DIR/kafka.log:"
    tail -n 40 "$LOG_DIR/kafka.log" >&2 2>/dev/null || true
    log "last lines of $LOG_DIR/kafka.out:"
    tail -n 20 "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
}

cmd_start() {
    local pid rc=0
    resolve_probe
    if pid="$(running_pid)"; then
        wait_until_answering "$KAFKA_START_TIMEOUT" "$pid" || rc=$?
        if [[ $rc -eq 0 ]]; then
            log "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
            return 0
        fi
        show_log_tail
        die "broker pid $pid runs but does not answer on 127.0.0.1:$KAFKA_PORT"
    fi
    rm -f "$PID_FILE"
    require_java
    cmd_fetch
    for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
        if port_in_use "$port"; then
            die "port 127.0.0.1:$port is already in use by another process"
        fi
    done
    render_config
    format_storage

    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT, home $KAFKA_HOME_DIR)"
    # Own session and process group (setsid), detached from the terminal (nohup, stdin from /dev/null), output
    # to a file so that a caller reading our stdout/stderr through a pipe is not held open by the broker, and
    # started from a subshell that exits at once so the JVM is not our child (no zombie to mistake for alive).
    # The child writes its own pid before exec'ing java, so the pid file always names the JVM.
    # shellcheck disable=SC2086  # KAFKA_HEAP / KAFKA_JVM_OPTS are word lists
    (
        cd "$KAFKA_HOME_DIR"
        # shellcheck disable=SC2016  # $$ and $0 belong to the inner shell
        setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
            java $KAFKA_HEAP -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
            -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true -Dlog4j2.shutdownHookEnabled=false \
            -Dlog4j2.configurationFile="$LOG4J2_CONFIG" -Dkafka.logs.dir="$LOG_DIR" \
            $KAFKA_JVM_OPTS -cp "$(classpath)" kafka.Kafka "$CONFIG" \
            </dev/null >>"$LOG_DIR/kafka.out" 2>&1 &
    )
    local waited=0
    until [[ -s "$PID_FILE" ]]; do
        sleep 0.1
        waited=$((waited + 1))
        [[ $waited -lt 100 ]] || die "the broker wrote no pid file"
    done
    pid="$(cat "$PID_FILE")"

    rc=0
    wait_until_answering "$KAFKA_START_TIMEOUT" "$pid" || rc=$?
    if [[ $rc -eq 0 ]] && pid_alive "$pid"; then
        log "running (pid $pid), bootstrap servers 127.0.0.1:$KAFKA_PORT"
        return 0
    fi
    show_log_tail
    if [[ $rc -eq 2 ]] || ! pid_alive "$pid"; then
        rm -f "$PID_FILE"
        die "the broker exited during start-up"
    fi
    cmd_stop || true
    die "the broker did not answer within ${KAFKA_START_TIMEOUT} s"
}

cmd_stop() {
    local pid
    if ! pid="$(running_pid)"; then
        rm -f "$PID_FILE"
        log "not running"
        return 0
    fi
    log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while pid_alive "$pid"; do
        if ((SECONDS >= deadline)); then
            log "no clean shutdown within ${KAFKA_STOP_TIMEOUT} s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            while pid_alive "$pid"; do sleep 0.1; done
            break
        fi
        sleep 0.2
    done
    rm -f "$PID_FILE"
    log "stopped"
}

cmd_status() {
    local pid
    if pid="$(running_pid)"; then
        echo "running (pid $pid, 127.0.0.1:$KAFKA_PORT, home $KAFKA_HOME_DIR)"
        return 0
    fi
    echo "stopped"
    return 1
}

main() {
    [[ $# -eq 1 ]] || usage
    case "$1" in
        fetch) cmd_fetch ;;
        start) cmd_start ;;
        stop) cmd_stop ;;
        status) cmd_status ;;
        -h | --help | help) usage ;;
        *) usage ;;
    esac
}

main "$@"
