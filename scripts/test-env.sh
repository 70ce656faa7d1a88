#!/usr/bin/env bash
# Real services for kairos-img's integration tests, on loopback only:
#   - a CNCF distribution registry, anonymous pull+push, delete enabled  (port BASE)
#   - the same registry behind htpasswd Basic auth                        (port BASE+1)
#   - the same registry behind `auth: token`                              (port BASE+2)
#   - scripts/token-server.mjs, the token realm for the registry above    (port BASE+3)
#   - a pull-through cache: the registry in proxy mode (`proxy: remoteurl:`) in front of the
#     anonymous one, as a site would run it in front of quay.io         (port BASE+6)
#   - a Docker engine on a private unix socket (vfs, no iptables, no bridge)
#
# Usage: bash scripts/test-env.sh start|stop|env|status
#   eval "$(bash scripts/test-env.sh start)"
# `start` is idempotent: services already started from the same state directory are reused.
# `stop` stops only processes this script started (recorded in pid files, checked by command line).
# Only `export` lines go to stdout; every message goes to stderr.
#
# Environment:
#   KIMG_TEST_ENV_DIR        state directory (default /tmp/kairos-img-test-env)
#   KIMG_TEST_ENV_PORT_BASE  first port (default 5000); lets a second environment run beside the first
#   KIMG_TOKEN_TTL           token lifetime in seconds (default 300); when set and different from the
#                            running token server's, that server is restarted with it
set -euo pipefail

readonly SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly ENV_DIR="${KIMG_TEST_ENV_DIR:-/tmp/kairos-img-test-env}"
readonly PORT_BASE="${KIMG_TEST_ENV_PORT_BASE:-5000}"
readonly TOKEN_TTL="${KIMG_TOKEN_TTL:-300}"
[[ $TOKEN_TTL =~ ^[1-9][0-9]*$ ]] || { echo "test-env: KIMG_TOKEN_TTL must be a positive number of seconds" >&2; exit 2; }
readonly HOST=127.0.0.1
readonly PORT_ANON=$((PORT_BASE))
readonly PORT_BASIC=$((PORT_BASE + 1))
readonly PORT_TOKEN=$((PORT_BASE + 2))
readonly PORT_TOKEN_SERVER=$((PORT_BASE + 3))
readonly PORT_PROXY=$((PORT_BASE + 6))
readonly LOG_DIR="$ENV_DIR/logs"
readonly RUN_DIR="$ENV_DIR/run"
readonly DOCKER_DIR="$ENV_DIR/docker"
readonly DOCKER_SOCK="$DOCKER_DIR/docker.sock"
readonly TOKEN_SERVICE=kimg-test-registry
readonly TOKEN_ISSUER=kimg-test-token-server
# Unique to this state directory, unlike the script path shared by every environment.
readonly TOKEN_FRAGMENT="--key $ENV_DIR/token/key.pem"

log() { printf 'test-env: %s\n' "$*" >&2; }
die() { printf 'test-env: error: %s\n' "$*" >&2; exit 1; }

# --- packages -------------------------------------------------------------------------------------

ensure_packages() {
  local -A pkg_for=(
    [docker-registry]=docker-registry [skopeo]=skopeo [umoci]=umoci [dockerd]=docker.io
    [htpasswd]=apache2-utils [openssl]=openssl [curl]=curl [setfattr]=attr [getfattr]=attr
    [bzip2]=bzip2 [filefrag]=e2fsprogs
  )
  local missing=() bin
  for bin in "${!pkg_for[@]}"; do
    command -v "$bin" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin:/sbin" command -v "$bin" >/dev/null 2>&1 \
      || missing+=("${pkg_for[$bin]}")
  done
  command -v node >/dev/null 2>&1 || die "node is not on PATH (needed for scripts/token-server.mjs)"
  command -v flock >/dev/null 2>&1 || missing+=(util-linux)
  # Go's archive/tar test corpus (tests/integration/tar-corpus.test.ts): data, not a program.
  [[ -d /usr/share/go-1.19/src/archive/tar/testdata ]] || missing+=(golang-1.19-src)
  ((${#missing[@]} == 0)) && return 0

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing packages ${missing[*]} and not root; install them first"
    sudo=(sudo -n)
  fi
  mkdir -p "$LOG_DIR"
  log "installing missing packages: ${missing[*]} (log: $LOG_DIR/apt.log)"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -q >>"$LOG_DIR/apt.log" 2>&1 || die "apt-get update failed, see $LOG_DIR/apt.log"
  "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null >>"$LOG_DIR/apt.log" 2>&1 \
    || die "apt-get install ${missing[*]} failed, see $LOG_DIR/apt.log"
}

# --- process bookkeeping --------------------------------------------------------------------------

# A pid counts only if the process is alive and still runs with a command-line fragment unique to
# this state directory, so a recycled pid is never mistaken for (or killed as) one of ours.
runs_fragment() { # pid program fragment
  local cmd argv0
  [[ -r /proc/$1/cmdline ]] || return 1
  { IFS= read -r -d '' argv0 <"/proc/$1/cmdline"; } 2>/dev/null || return 1
  [[ ${argv0##*/} == "$2" ]] || return 1
  cmd="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
  [[ $cmd == *"$3"* ]]
}

program_of() {
  case $1 in
    registry-*) echo docker-registry ;;
    token-server) echo node ;;
    dockerd) echo dockerd ;;
  esac
}

owned_pid() { # name fragment -> prints pid, status 0 if ours and alive
  local file="$RUN_DIR/$1.pid" prog pid p
  prog="$(program_of "$1")"
  if [[ -f $file ]]; then
    pid="$(<"$file")"
    if [[ $pid =~ ^[0-9]+$ ]] && runs_fragment "$pid" "$prog" "$2"; then
      printf '%s' "$pid"
      return 0
    fi
  fi
  # The pid file is gone or stale but a service of this directory may still run (an interrupted
  # start or stop): adopt it rather than fail on a busy port.
  for p in /proc/[0-9]*; do
    pid="${p#/proc/}"
    if runs_fragment "$pid" "$prog" "$2"; then
      mkdir -p "$RUN_DIR"
      echo "$pid" >"$file"
      printf '%s' "$pid"
      return 0
    fi
  done
  return 1
}

# setsid: services outlive the shell that started them and its process group.
launch() { # name logfile cmd...
  local name="$1" logfile="$2"
  shift 2
  setsid "$@" </dev/null >>"$logfile" 2>&1 9>&- &
  echo $! >"$RUN_DIR/$name.pid"
}

port_busy() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

http_code() { curl -s -o /dev/null -m 3 -w '%{http_code}' "$@" 2>/dev/null || true; }

wait_until() { # description timeout-seconds pid command...
  local what="$1" timeout="$2" pid="$3"
  shift 3
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      die "$what exited during start-up; see its log under $LOG_DIR"
    fi
    ((SECONDS < deadline)) || die "$what did not answer within ${timeout}s; see its log under $LOG_DIR"
    sleep 0.2
  done
}

registry_up() { local c; c="$(http_code "http://$HOST:$1/v2/")"; [[ $c == 200 || $c == 401 ]]; }
token_server_up() { [[ "$(http_code "http://$HOST:$PORT_TOKEN_SERVER/stats")" == 200 ]]; }
dockerd_up() { [[ "$(curl -s -m 3 --unix-socket "$DOCKER_SOCK" http://localhost/_ping 2>/dev/null)" == OK ]]; }

stop_one() { # name cmdline-fragment
  local pid
  pid="$(owned_pid "$1" "$2")" || { rm -f "$RUN_DIR/$1.pid"; return 0; }
  log "stopping $1 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "$1 did not stop on TERM, killing"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN_DIR/$1.pid"
}

# --- state: credentials, keys, configs ------------------------------------------------------------

init_state() {
  mkdir -p "$LOG_DIR" "$RUN_DIR" "$DOCKER_DIR" "$ENV_DIR/token"
  local creds="$ENV_DIR/credentials.env"
  if [[ ! -f $creds ]]; then
    # Random per environment, so no test can pass by hard-coding a password.
    umask 077
    {
      echo "BASIC_USER=kimg-basic"
      echo "BASIC_PASS=$(openssl rand -hex 12)"
      echo "TOKEN_USER=kimg-token"
      echo "TOKEN_PASS=$(openssl rand -hex 12)"
      echo "HTTP_SECRET=$(openssl rand -hex 16)"
    } >"$creds.tmp"
    mv "$creds.tmp" "$creds"
    umask 022
  fi
  load_credentials
  if [[ ! -f $ENV_DIR/basic.htpasswd ]]; then
    htpasswd -Bbn "$BASIC_USER" "$BASIC_PASS" >"$ENV_DIR/basic.htpasswd.tmp" 2>/dev/null
    mv "$ENV_DIR/basic.htpasswd.tmp" "$ENV_DIR/basic.htpasswd"
  fi
  if [[ ! -f $ENV_DIR/token/cert.pem || ! -f $ENV_DIR/token/key.pem ]]; then
    openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
      -subj "/CN=$TOKEN_ISSUER" \
      -keyout "$ENV_DIR/token/key.pem" -out "$ENV_DIR/token/cert.pem" >>"$LOG_DIR/openssl.log" 2>&1 \
      || die "openssl could not create the token signing key, see $LOG_DIR/openssl.log"
    chmod 600 "$ENV_DIR/token/key.pem"
  fi
  write_registry_config anon "$PORT_ANON" ""
  write_registry_config basic "$PORT_BASIC" "$(
    cat <<EOF
auth:
  htpasswd:
    realm: kimg-basic
    path: $ENV_DIR/basic.htpasswd
EOF
  )"
  write_registry_config token "$PORT_TOKEN" "$(
    cat <<EOF
auth:
  token:
    realm: http://$HOST:$PORT_TOKEN_SERVER/token
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER
    rootcertbundle: $ENV_DIR/token/cert.pem
EOF
  )"
  write_registry_config proxy "$PORT_PROXY" "$(
    cat <<EOF
proxy:
  remoteurl: http://$HOST:$PORT_ANON
EOF
  )"
}

load_credentials() {
  local creds="$ENV_DIR/credentials.env"
  [[ -f $creds ]] || die "no test environment in $ENV_DIR; run: bash scripts/test-env.sh start"
  # shellcheck disable=SC1090
  source "$creds"
}

write_registry_config() { # name port auth-yaml
  local dir="$ENV_DIR/registry-$1"
  mkdir -p "$dir/storage"
  cat >"$dir/config.yml.tmp" <<EOF
version: 0.1
log:
  level: info
  formatter: text
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: $HOST:$2
  secret: $HTTP_SECRET
  headers:
    X-Content-Type-Options: [nosniff]
$3
EOF
  mv "$dir/config.yml.tmp" "$dir/config.yml"
}

# --- services -------------------------------------------------------------------------------------

start_registry() { # name port
  local name="registry-$1" port="$2" pid
  if pid="$(owned_pid "$name" "$ENV_DIR/$name/config.yml")"; then
    wait_until "$name" 30 "$pid" registry_up "$port"
    log "$name already running (pid $pid) on $HOST:$port"
    return 0
  fi
  port_busy "$port" && die "port $HOST:$port is taken by a process this environment did not start" \
    "(set KIMG_TEST_ENV_PORT_BASE to use other ports)"
  launch "$name" "$LOG_DIR/$name.log" docker-registry serve "$ENV_DIR/$name/config.yml"
  pid="$(<"$RUN_DIR/$name.pid")"
  wait_until "$name" 30 "$pid" registry_up "$port"
  log "$name started (pid $pid) on $HOST:$port"
}

start_token_server() {
  local name=token-server script="$SCRIPT_DIR/token-server.mjs" pid
  if pid="$(owned_pid "$name" "$TOKEN_FRAGMENT")"; then
    # Without an explicit KIMG_TOKEN_TTL, keep the running server (and its TTL, which `env` reports).
    if [[ -z ${KIMG_TOKEN_TTL:-} || "$(cat "$RUN_DIR/token-ttl" 2>/dev/null)" == "$TOKEN_TTL" ]]; then
      wait_until "$name" 15 "$pid" token_server_up
      log "$name already running (pid $pid) on $HOST:$PORT_TOKEN_SERVER"
      return 0
    fi
    log "$name runs with another token TTL; restarting it with ${TOKEN_TTL}s"
    stop_one "$name" "$TOKEN_FRAGMENT"
  fi
  port_busy "$PORT_TOKEN_SERVER" && die "port $HOST:$PORT_TOKEN_SERVER is taken by a process this environment did not start"
  # Credentials go through the environment, not argv, so `ps` does not show them.
  KIMG_TOKEN_USER="$TOKEN_USER" KIMG_TOKEN_PASS="$TOKEN_PASS" KIMG_TOKEN_TTL="$TOKEN_TTL" \
    launch "$name" "$LOG_DIR/$name.log" node "$script" \
    --listen "$HOST:$PORT_TOKEN_SERVER" --key "$ENV_DIR/token/key.pem" --cert "$ENV_DIR/token/cert.pem" \
    --issuer "$TOKEN_ISSUER" --service "$TOKEN_SERVICE"
  pid="$(<"$RUN_DIR/$name.pid")"
  echo "$TOKEN_TTL" >"$RUN_DIR/token-ttl"
  wait_until "$name" 15 "$pid" token_server_up
  log "$name started (pid $pid) on $HOST:$PORT_TOKEN_SERVER"
}

start_dockerd() {
  local name=dockerd pid dockerd_bin
  if pid="$(owned_pid "$name" "$DOCKER_SOCK")"; then
    wait_until "$name" 60 "$pid" dockerd_up
    log "$name already running (pid $pid) on $DOCKER_SOCK"
    return 0
  fi
  dockerd_bin="$(PATH="$PATH:/usr/sbin:/sbin" command -v dockerd)"
  rm -f "$DOCKER_SOCK"
  # dockerd starts its own containerd under --exec-root; no TCP listener, no iptables, no bridge,
  # so nothing of the host's network changes. Loopback registries are insecure by default
  # (InsecureRegistryCIDRs 127.0.0.0/8), so 127.0.0.1:PORT works over plain HTTP.
  launch "$name" "$LOG_DIR/$name.log" "$dockerd_bin" \
    --storage-driver=vfs --iptables=false --ip-masq=false --bridge=none \
    --host "unix://$DOCKER_SOCK" \
    --data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_DIR/exec" --pidfile "$DOCKER_DIR/dockerd.pid" \
    --insecure-registry "$HOST:$PORT_ANON" --insecure-registry "$HOST:$PORT_BASIC" \
    --insecure-registry "$HOST:$PORT_TOKEN"
  pid="$(<"$RUN_DIR/$name.pid")"
  wait_until "$name" 90 "$pid" dockerd_up
  log "$name started (pid $pid) on $DOCKER_SOCK"
}

print_exports() {
  load_credentials
  local q
  emit() { printf -v q '%q' "$2"; printf 'export %s=%s\n' "$1" "$q"; }
  emit KIMG_TEST_ENV_DIR "$ENV_DIR"
  emit KIMG_REGISTRY "$HOST:$PORT_ANON"
  emit KIMG_REGISTRY_STORAGE "$ENV_DIR/registry-anon/storage"
  emit KIMG_REGISTRY_PROXY "$HOST:$PORT_PROXY"
  emit KIMG_REGISTRY_PROXY_STORAGE "$ENV_DIR/registry-proxy/storage"
  emit KIMG_REGISTRY_BASIC "$HOST:$PORT_BASIC"
  emit KIMG_BASIC_USER "$BASIC_USER"
  emit KIMG_BASIC_PASS "$BASIC_PASS"
  emit KIMG_REGISTRY_TOKEN "$HOST:$PORT_TOKEN"
  emit KIMG_TOKEN_SERVER "$HOST:$PORT_TOKEN_SERVER"
  emit KIMG_TOKEN_USER "$TOKEN_USER"
  emit KIMG_TOKEN_PASS "$TOKEN_PASS"
  emit KIMG_TOKEN_TTL "$(cat "$RUN_DIR/token-ttl" 2>/dev/null || echo "$TOKEN_TTL")"
  emit DOCKER_HOST "unix://$DOCKER_SOCK"
}

# Concurrent `start`s (several test runs at once) and `stop`s serialise on one lock.
with_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/env.lock"
  flock -w 600 9 || die "another test-env.sh holds $RUN_DIR/env.lock for too long"
}

cmd_start() {
  ensure_packages
  with_lock
  init_state
  start_registry anon "$PORT_ANON"
  start_registry proxy "$PORT_PROXY"
  start_registry basic "$PORT_BASIC"
  start_token_server
  start_registry token "$PORT_TOKEN"
  start_dockerd
  print_exports
}

cmd_stop() {
  [[ -d $ENV_DIR ]] || { log "nothing to stop in $ENV_DIR"; return 0; }
  with_lock
  stop_one dockerd "$DOCKER_SOCK"
  stop_one registry-token "$ENV_DIR/registry-token/config.yml"
  stop_one token-server "$TOKEN_FRAGMENT"
  stop_one registry-basic "$ENV_DIR/registry-basic/config.yml"
  stop_one registry-proxy "$ENV_DIR/registry-proxy/config.yml"
  stop_one registry-anon "$ENV_DIR/registry-anon/config.yml"
  log "stopped (state kept in $ENV_DIR)"
}

cmd_status() {
  local name frag pid rc=0
  for name in registry-anon registry-proxy registry-basic token-server registry-token dockerd; do
    case $name in
      registry-*) frag="$ENV_DIR/$name/config.yml" ;;
      token-server) frag="$TOKEN_FRAGMENT" ;;
      dockerd) frag="$DOCKER_SOCK" ;;
    esac
    if pid="$(owned_pid "$name" "$frag")"; then log "$name running (pid $pid)"; else log "$name not running"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) print_exports ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
