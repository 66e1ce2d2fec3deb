#!/usr/bin/env bash
# Real brokers for dev machines and CI: `bash infra/brokers.sh up|down|status`
# (also `pnpm brokers up|down|status`). See infra/README.md.
#
#   Kafka      JVM started here (jars from Maven Central), KRaft single node, 127.0.0.1:9092
#   SQS        ElasticMQ JVM started here (jars from Maven Central), http://127.0.0.1:9324
#   RabbitMQ   the machine's server, 127.0.0.1:5672; management API 127.0.0.1:15672
#   Redis      the machine's server, 127.0.0.1:6379
#
# `up` returns only when every broker answers a real protocol request (infra/probe.mjs),
# or fails within BROKERS_WAIT_SECONDS naming what is missing. `down` stops only the JVM
# brokers this script started; Redis and RabbitMQ are machine services and stay up.
set -euo pipefail

INFRA="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="$INFRA/.cache"
LOGS="$CACHE/logs"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
ELASTICMQ_VERSION="${ELASTICMQ_VERSION:-1.7.1}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
ELASTICMQ_HEAP_OPTS="${ELASTICMQ_HEAP_OPTS:--Xms64m -Xmx256m}"
WAIT_SECONDS="${BROKERS_WAIT_SECONDS:-90}"
MVN_TIMEOUT_SECONDS="${BROKERS_MVN_TIMEOUT_SECONDS:-600}"

# Ports are fixed for dev/CI; the overrides exist to run a second, isolated copy of infra/
# (e.g. another Kafka version side by side) without touching the shared brokers.
KAFKA_PORT="${BROKERS_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${BROKERS_KAFKA_CONTROLLER_PORT:-9093}"
SQS_PORT="${BROKERS_SQS_PORT:-9324}"
ALL_PROBES=(kafka sqs amqp rabbitmq-mgmt redis)

say() { printf 'brokers: %s\n' "$*"; }
warn() { printf 'brokers: WARNING: %s\n' "$*" >&2; }
die() {
  printf 'brokers: ERROR: %s\n' "$*" >&2
  exit 1
}

usage() {
  cat <<EOF
usage: bash infra/brokers.sh up|down|status
  up      start Kafka $KAFKA_VERSION and ElasticMQ $ELASTICMQ_VERSION (downloading jars on first use),
          make sure the machine's Redis and RabbitMQ (+ management plugin) run, and wait until
          every broker answers (at most ${WAIT_SECONDS}s after start)
  down    stop Kafka and ElasticMQ (Redis and RabbitMQ are machine services: left running)
  status  probe every broker once; exit 0 only if all are up
env: KAFKA_VERSION (default 4.4.0), ELASTICMQ_VERSION, BROKERS_WAIT_SECONDS, KAFKA_HEAP_OPTS, ELASTICMQ_HEAP_OPTS
EOF
}

# Kafka and SQS are probed where this script runs them, whatever KAFKA_BROKERS/SQS_ENDPOINT
# say; RabbitMQ/Redis URLs pass through (they may carry credentials for the machine's servers).
probe() {
  KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" SQS_ENDPOINT="http://127.0.0.1:$SQS_PORT" node "$INFRA/probe.mjs" "$@"
}

# ---------------------------------------------------------------- prerequisites

require_node() {
  command -v node >/dev/null 2>&1 || die "node not found: the readiness probes (infra/probe.mjs) need Node.js"
}

require_java() {
  command -v java >/dev/null 2>&1 || die "java not found: Kafka and ElasticMQ need a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)"
  local line major
  line="$(java -version 2>&1 | head -n 1)"
  major="$(sed -E 's/.*version "([0-9]+)(\.[0-9]+)?.*/\1/' <<<"$line")"
  [[ "$major" == 1 ]] && major="$(sed -E 's/.*version "1\.([0-9]+).*/\1/' <<<"$line")"
  [[ "$major" =~ ^[0-9]+$ ]] || die "cannot read the Java version from: $line"
  ((major >= 17)) || die "Java $major found ($line); Kafka 4.x brokers need Java 17+"
}

# Who listens on a TCP port, e.g. 'users:(("java",pid=123,fd=4))'; empty if nobody.
port_owner() {
  ss -ltnpH "sport = :$1" 2>/dev/null | awk '{ $1=$2=$3=$4=$5=""; print }' | sed 's/^ *//' | head -n 1
}

port_in_use() {
  [[ -n "$(ss -ltnH "sport = :$1" 2>/dev/null)" ]]
}

# ---------------------------------------------------------------- jars from Maven Central

# fetch_jars NAME POM VERSION_PROPERTY VERSION LIBDIR
fetch_jars() {
  local name="$1" pom="$2" prop="$3" version="$4" lib="$5"
  [[ -f "$lib/.complete" ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "mvn not found: it downloads the $name $version jars on first use (Debian: apt-get install maven)"
  local tmp="$lib.partial.$$" log="$LOGS/mvn-$name-$version.log"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  say "downloading $name $version jars from Maven Central (first use only)..."
  if ! timeout "$MVN_TIMEOUT_SECONDS" mvn -B -q -f "$pom" "-D$prop=$version" \
    dependency:copy-dependencies -DincludeScope=runtime "-DoutputDirectory=$tmp" >"$log" 2>&1; then
    rm -rf "$tmp"
    tail -n 15 "$log" >&2 || true
    die "could not download $name $version with Maven (refused, unknown version, or no network); full log: $log"
  fi
  ls "$tmp"/*.jar >/dev/null 2>&1 || die "Maven resolved no jars for $name $version; log: $log"
  rm -rf "$lib"
  mv "$tmp" "$lib"
  touch "$lib/.complete"
}

# ---------------------------------------------------------------- managed JVM processes

# Our JVMs carry -Dmailroom.broker=NAME so a recycled pid is never mistaken for them.
managed_pid() {
  local name="$1" pidfile="$CACHE/$1.pid" pid
  [[ -f "$pidfile" ]] || return 1
  pid="$(head -n 1 "$pidfile")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "-Dmailroom.broker=$name " || return 1
  echo "$pid"
}

managed_version() { sed -n 2p "$CACHE/$1.pid" 2>/dev/null; }

# start_jvm NAME VERSION LOGFILE JAVA_ARGS...
start_jvm() {
  local name="$1" version="$2" log="$3"
  shift 3
  [[ -f "$log" ]] && mv -f "$log" "$log.1"
  # setsid + nohup: the broker outlives the shell (and pnpm) that started it.
  # 9>&-: it must not inherit the lock, or every later `up` would wait for it.
  # cd: anything a JVM drops in its working directory (hs_err_pid*.log) lands in the cache.
  (cd "$CACHE" && exec setsid nohup java "-Dmailroom.broker=$name" "$@" >"$log" 2>&1 </dev/null 9>&-) &
  printf '%s\n%s\n' "$!" "$version" >"$CACHE/$name.pid"
  # setsid and nohup exec into java; wait for that so managed_pid recognises the process.
  local i
  for ((i = 0; i < 50; i++)); do
    managed_pid "$name" >/dev/null && return 0
    sleep 0.1
  done
}

stop_jvm() {
  local name="$1" pid
  if ! pid="$(managed_pid "$name")"; then
    rm -f "$CACHE/$name.pid"
    say "$name: not running (nothing to stop)"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do # 30 s for a clean shutdown
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    warn "$name (pid $pid) ignored SIGTERM for 30s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$CACHE/$name.pid"
  say "$name: stopped (pid $pid)"
}

# ---------------------------------------------------------------- Kafka

kafka_home() { echo "$CACHE/kafka-$KAFKA_VERSION"; }

write_kafka_properties() {
  local data="$1" file="$2"
  cat >"$file" <<EOF
# Generated by infra/brokers.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$data

# Topics are created explicitly by the adapters and tests: a typo must fail, not
# silently create a topic.
auto.create.topics.enable=false
delete.topic.enable=true
num.partitions=1
default.replication.factor=1
min.insync.replicas=1

# Single node: internal topics with replication factor 1, few partitions (2 cores).
offsets.topic.replication.factor=1
offsets.topic.num.partitions=5
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=5
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Tests: a consumer group's first join must not wait 3 s for more members.
group.initial.rebalance.delay.ms=0

num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
EOF
}

start_kafka() {
  local pid running
  if pid="$(managed_pid kafka)"; then
    running="$(managed_version kafka)"
    [[ "$running" == "$KAFKA_VERSION" ]] ||
      die "Kafka $running is running (pid $pid) but KAFKA_VERSION=$KAFKA_VERSION was asked: run 'bash infra/brokers.sh down' first"
    say "kafka: Kafka $running already started (pid $pid)"
    return 0
  fi
  if probe kafka >/dev/null 2>&1; then
    warn "kafka: something not started by this script answers Kafka on 127.0.0.1:$KAFKA_PORT; using it as is (its version is unknown to this script)"
    return 0
  fi
  local port
  for port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    port_in_use "$port" && die "kafka: port $port is taken by another program: $(port_owner "$port")"
  done

  local home lib data props cluster_id
  home="$(kafka_home)"
  lib="$home/lib"
  data="$CACHE/kafka-data-$KAFKA_VERSION"
  props="$home/server.properties"
  fetch_jars kafka "$INFRA/kafka/pom.xml" kafka.version "$KAFKA_VERSION" "$lib"
  mkdir -p "$data"
  write_kafka_properties "$data" "$props"

  local -a jvm=(-cp "$lib/*" "-Dlog4j2.configurationFile=$INFRA/kafka/log4j2.properties"
    $KAFKA_HEAP_OPTS -XX:+ExitOnOutOfMemoryError -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true)
  if [[ ! -f "$data/meta.properties" ]]; then
    cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    say "kafka: formatting storage $data (cluster id $cluster_id)"
    if ! java "${jvm[@]}" -Xmx256m kafka.tools.StorageTool format -t "$cluster_id" -c "$props" \
      >"$LOGS/kafka-$KAFKA_VERSION-format.log" 2>&1; then
      tail -n 20 "$LOGS/kafka-$KAFKA_VERSION-format.log" >&2 || true
      die "kafka: formatting the storage failed; log: $LOGS/kafka-$KAFKA_VERSION-format.log"
    fi
  fi
  start_jvm kafka "$KAFKA_VERSION" "$LOGS/kafka-$KAFKA_VERSION.log" "${jvm[@]}" kafka.Kafka "$props"
  say "kafka: starting Kafka $KAFKA_VERSION (pid $(managed_pid kafka || echo '?')), log $LOGS/kafka-$KAFKA_VERSION.log"
}

# ---------------------------------------------------------------- ElasticMQ (SQS)

start_elasticmq() {
  local pid running
  if pid="$(managed_pid elasticmq)"; then
    running="$(managed_version elasticmq)"
    say "elasticmq: ElasticMQ $running already started (pid $pid)"
    return 0
  fi
  if probe sqs >/dev/null 2>&1; then
    warn "sqs: something not started by this script answers SQS on 127.0.0.1:$SQS_PORT; using it as is"
    return 0
  fi
  port_in_use "$SQS_PORT" && die "sqs: port $SQS_PORT is taken by another program: $(port_owner "$SQS_PORT")"

  local lib="$CACHE/elasticmq-$ELASTICMQ_VERSION/lib"
  fetch_jars elasticmq "$INFRA/elasticmq/pom.xml" elasticmq.version "$ELASTICMQ_VERSION" "$lib"
  start_jvm elasticmq "$ELASTICMQ_VERSION" "$LOGS/elasticmq.log" \
    -cp "$lib/*" $ELASTICMQ_HEAP_OPTS -XX:+ExitOnOutOfMemoryError -XX:+UseSerialGC \
    "-Dconfig.file=$INFRA/elasticmq/elasticmq.conf" "-Dlogback.configurationFile=$INFRA/elasticmq/logback.xml" \
    "-Dnode-address.port=$SQS_PORT" "-Drest-sqs.bind-port=$SQS_PORT" \
    org.elasticmq.server.Main
  say "elasticmq: starting ElasticMQ $ELASTICMQ_VERSION (pid $(managed_pid elasticmq || echo '?')), log $LOGS/elasticmq.log"
}

# ---------------------------------------------------------------- machine services

ensure_redis() {
  if probe redis >/dev/null 2>&1; then
    return 0
  fi
  if port_in_use 6379; then
    # Something listens: let the final probe report exactly what is wrong (old version, auth...).
    return 0
  fi
  command -v redis-server >/dev/null 2>&1 || die "redis: not running and redis-server not installed (Debian: apt-get install redis-server)"
  say "redis: starting the machine's redis-server"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log >/dev/null 9>&- ||
    die "redis: redis-server failed to start; see /var/log/redis/ci.log"
}

RABBIT_PLUGINS=(rabbitmq_management rabbitmq_shovel rabbitmq_shovel_management)

rabbit_plugins_enabled() {
  local file="${RABBITMQ_ENABLED_PLUGINS_FILE:-/etc/rabbitmq/enabled_plugins}" p
  [[ -f "$file" ]] || return 1
  for p in "${RABBIT_PLUGINS[@]}"; do
    grep -qE "(\[|,) *$p *(,|\])" "$file" || return 1
  done
}

ensure_rabbitmq() {
  local running=0
  probe amqp >/dev/null 2>&1 && running=1
  if ((running == 0)) && port_in_use 5672; then
    die "rabbitmq: port 5672 is taken by a program that does not speak AMQP: $(port_owner 5672)"
  fi
  if ((running == 0)); then
    command -v rabbitmq-server >/dev/null 2>&1 || die "rabbitmq: not running and rabbitmq-server not installed (Debian: apt-get install rabbitmq-server)"
  fi
  if ! rabbit_plugins_enabled; then
    if command -v rabbitmq-plugins >/dev/null 2>&1; then
      # Online when the node runs (no restart needed), else --offline so it boots with them.
      local mode=()
      ((running == 1)) || mode=(--offline)
      say "rabbitmq: enabling ${RABBIT_PLUGINS[*]}"
      timeout 60 rabbitmq-plugins enable "${mode[@]}" "${RABBIT_PLUGINS[@]}" >"$LOGS/rabbitmq-plugins.log" 2>&1 9>&- ||
        warn "rabbitmq: enabling plugins failed (see $LOGS/rabbitmq-plugins.log)"
    else
      warn "rabbitmq: rabbitmq-plugins not found; cannot enable the management plugin"
    fi
  fi
  if ((running == 0)); then
    say "rabbitmq: starting the machine's rabbitmq-server"
    rabbitmq-server -detached >"$LOGS/rabbitmq-start.log" 2>&1 9>&- ||
      die "rabbitmq: rabbitmq-server -detached failed; see $LOGS/rabbitmq-start.log"
  fi
}

# ---------------------------------------------------------------- commands

print_log_tail() {
  local name="$1" log="$2"
  [[ -f "$log" ]] || return 0
  printf -- '--- last lines of %s ---\n' "$log" >&2
  tail -n 20 "$log" >&2
}

cmd_up() {
  local started=$SECONDS
  require_node
  require_java
  mkdir -p "$LOGS"
  # Two callers running `up` at once must not start two brokers on the same ports.
  exec 9>"$CACHE/brokers.lock"
  flock -w 300 9 || die "another 'brokers.sh up/down' held the lock for 300s"

  ensure_redis
  ensure_rabbitmq
  start_kafka
  start_elasticmq

  local -a watch=()
  local pid
  pid="$(managed_pid kafka)" && watch+=(--watch "kafka=$pid")
  pid="$(managed_pid elasticmq)" && watch+=(--watch "sqs=$pid")
  local out rc=0
  out="$(probe --wait "$WAIT_SECONDS" "${watch[@]}" "${ALL_PROBES[@]}")" || rc=$?
  printf '%s\n' "$out"
  if ((rc != 0)); then
    grep -q '^kafka .*DOWN' <<<"$out" && print_log_tail kafka "$LOGS/kafka-$KAFKA_VERSION.log"
    grep -q '^sqs .*DOWN' <<<"$out" && print_log_tail elasticmq "$LOGS/elasticmq.log"
    die "not every broker is ready (see the DOWN lines above; waited at most ${WAIT_SECONDS}s)"
  fi
  say "all brokers up ($((SECONDS - started))s)"
}

cmd_down() {
  mkdir -p "$LOGS"
  exec 9>"$CACHE/brokers.lock"
  flock -w 300 9 || die "another 'brokers.sh up/down' held the lock for 300s"
  stop_jvm kafka
  stop_jvm elasticmq
  say "redis and rabbitmq are machine services: left running"
}

cmd_status() {
  require_node
  local pid
  if pid="$(managed_pid kafka)"; then
    say "kafka: started by brokers.sh, Kafka $(managed_version kafka), pid $pid"
  fi
  if pid="$(managed_pid elasticmq)"; then
    say "elasticmq: started by brokers.sh, ElasticMQ $(managed_version elasticmq), pid $pid"
  fi
  probe "${ALL_PROBES[@]}"
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
-h | --help | help) usage ;;
*)
  usage >&2
  exit 2
  ;;
esac
