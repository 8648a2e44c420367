#!/usr/bin/env bash
# Side-by-side loopback benchmark: the backend directly, nginx as a plain
# reverse proxy, and pinpoint (tracing on) proxying and denying the same
# 1 KB JSON POST. Each proxy is pinned to CPU 0; wrk and the backend share
# CPU 1. Prints a markdown table: requests/s, p50/p99 latency, and the
# proxy's CPU microseconds per request (utime+stime from /proc/<pid>/stat,
# after minus before, divided by the requests wrk completed).
#
# Usage: bench/run.sh            (from the repository root or anywhere)
#   DURATION=10s CONNS=32 WARMUP=2s  override the wrk run
#   ONLY="nginx pinpoint-post"       run a subset of rows (names below)
#   ROUNDS=3                         run every row 3 times, in turns, and add
#                                    a summary: each row's lowest proxy CPU
#                                    and the range (a shared machine is noisy)
#   PINPOINT_BIN=/path TAG=" (old)"  measure a given pinpoint binary instead
#                                    of building this tree; TAG marks its rows
#
# Everything listens on 127.0.0.1 only, every run is bounded by wrk's -d
# plus a timeout, and a trap stops every process this script started.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
work=${WORK:-/tmp/pinpoint-bench}
duration=${DURATION:-10s}
warmup=${WARMUP:-2s}
conns=${CONNS:-32}
only=${ONLY:-}
rounds=${ROUNDS:-1}

proxy_cpu=0     # the proxy under test
load_cpu=1      # wrk and the backend
backend_port=18000
nginx_port=18081
pinpoint_port=18080
floor_port=18082
rp_port=18083

die() { echo "bench: $*" >&2; exit 1; }

need() {
	local missing=()
	for t in nginx wrk taskset curl go getconf; do
		command -v "$t" >/dev/null 2>&1 || missing+=("$t")
	done
	if ((${#missing[@]})); then
		if [[ " ${missing[*]} " == *" go "* || " ${missing[*]} " == *" taskset "* || " ${missing[*]} " == *" curl "* ]]; then
			die "missing ${missing[*]} (taskset is in util-linux; Go from go.dev)"
		fi
		[[ $(id -u) == 0 ]] || die "missing ${missing[*]}: run 'apt-get install -y nginx wrk' as root"
		echo "bench: installing ${missing[*]} (apt-get install -y nginx wrk)" >&2
		apt-get update -qq >/dev/null
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null
	fi
	(($(nproc) >= 2)) || die "needs 2 CPUs (proxy on one, load and backend on the other)"
}

# --- process bookkeeping: only pids this script started are stopped ------
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
	pids=()
}
trap cleanup EXIT INT TERM

stop_pid() {
	local p=$1
	kill "$p" 2>/dev/null || true
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$p" 2>/dev/null || true
	local keep=()
	for q in "${pids[@]}"; do [[ $q == "$p" ]] || keep+=("$q"); done
	pids=("${keep[@]+"${keep[@]}"}")
}

# wait_http URL: bounded wait until something answers on URL.
wait_http() {
	for _ in $(seq 100); do
		curl -s -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.1
	done
	return 1
}

clk_tck=$(getconf CLK_TCK)

# cpu_ticks PID...: utime+stime (fields 14 and 15 of /proc/PID/stat) summed.
cpu_ticks() {
	local total=0 p line rest
	for p in "$@"; do
		read -r line <"/proc/$p/stat" || continue
		rest=${line##*) } # comm may hold spaces; fields restart after ") "
		read -r -a f <<<"$rest"
		total=$((total + f[11] + f[12]))
	done
	echo "$total"
}

# family PID: the pid and its direct children (nginx master + workers).
family() { echo "$1" $(cat "/proc/$1/task/$1/children" 2>/dev/null); }

# --- nginx -----------------------------------------------------------------
# start_nginx NAME CPU CONF_BODY: runs nginx in the foreground (daemon off)
# under its own prefix, pinned to CPU, and echoes the master pid.
start_nginx() {
	local name=$1 cpu=$2 body=$3 dir=$work/$1
	mkdir -p "$dir/logs" "$dir/tmp"
	cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  keepalive_requests 1000000;
  $body
}
EOF
	taskset -c "$cpu" nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;' >"$dir/logs/stdout.log" 2>&1 &
	echo $!
}

backend_conf="
  server {
    listen 127.0.0.1:$backend_port reuseport backlog=4096;
    location / { default_type application/json; return 200 '{\"ok\":true}\n'; }
  }"

proxy_conf="
  upstream backend { server 127.0.0.1:$backend_port; keepalive 64; }
  server {
    listen 127.0.0.1:$nginx_port backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
  }"

# --- measurement -------------------------------------------------------------
results=()
nginx_us=""
declare -A cpu_runs # row -> every proxy CPU figure measured for it
row_order=()

# wrk_run URL [HEADER...]: prints the RESULT line of post.lua.
wrk_run() {
	local url=$1 d=$2
	shift 2
	timeout 60 taskset -c "$load_cpu" wrk -t1 -c"$conns" -d"$d" --timeout 2s -s "$here/post.lua" "$url" -- "$here/body.json" "$@" | grep '^RESULT'
}

# measure ROW URL EXPECT PROXY_PIDS BACKEND_PIDS [HEADER...]
measure() {
	local row=$1 url=$2 expect=$3 ppids=$4 bpids=$5
	shift 5
	local hdrs=() h
	for h in "$@"; do hdrs+=(-H "$h"); done
	local got
	got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST -H 'Content-Type: application/json' "${hdrs[@]+"${hdrs[@]}"}" --data-binary "@$here/body.json" "$url")
	[[ $got == "$expect" ]] || die "$row: expected HTTP $expect from $url, got $got"
	wrk_run "$url" "$warmup" "$@" >/dev/null
	sleep 0.5
	local p0 b0 p1 b1 line
	p0=$( [[ -n $ppids ]] && cpu_ticks $ppids || echo 0)
	b0=$(cpu_ticks $bpids)
	line=$(wrk_run "$url" "$duration" "$@")
	# Let asynchronous work caused by the run (pinpoint's trace writer
	# flushes every 200 ms) land before reading the counters.
	sleep 1
	p1=$( [[ -n $ppids ]] && cpu_ticks $ppids || echo 0)
	b1=$(cpu_ticks $bpids)
	local -A m
	local kv
	for kv in ${line#RESULT }; do m[${kv%%=*}]=${kv#*=}; done
	local req=${m[requests]:-0} dur=${m[duration_us]:-1} errs=${m[errors]:-0} non2xx=${m[non2xx]:-0} p50=${m[p50_us]:-0} p99=${m[p99_us]:-0}
	((req > 0)) || die "$row: wrk completed no request"
	((errs == 0)) || echo "bench: $row: $errs socket errors" >&2
	if [[ $expect == 2* ]] && ((non2xx > 0)); then echo "bench: $row: $non2xx non-2xx answers" >&2; fi
	if [[ $expect != 2* ]] && ((non2xx != req)); then echo "bench: $row: only $non2xx of $req answers were denials" >&2; fi
	local rps proxy_us backend_us ratio
	rps=$(awk -v r="$req" -v d="$dur" 'BEGIN{printf "%.0f", r*1e6/d}')
	backend_us=$(awk -v t=$((b1 - b0)) -v c="$clk_tck" -v r="$req" 'BEGIN{printf "%.1f", t*1e6/c/r}')
	if [[ -n $ppids ]]; then
		proxy_us=$(awk -v t=$((p1 - p0)) -v c="$clk_tck" -v r="$req" 'BEGIN{printf "%.1f", t*1e6/c/r}')
	else
		proxy_us="–"
	fi
	[[ $row == nginx ]] && nginx_us=$proxy_us
	if [[ $proxy_us != "–" ]]; then
		[[ -n ${cpu_runs[$row]:-} ]] || row_order+=("$row")
		cpu_runs[$row]+="$proxy_us "
	fi
	ratio="–"
	if [[ -n $nginx_us && $proxy_us != "–" && $row != nginx ]]; then
		ratio=$(awk -v a="$proxy_us" -v b="$nginx_us" 'BEGIN{printf "%.2f", a/b}')
	fi
	local r
	r=$(printf '| %-28s | %6s | %8s | %7.0f | %7.0f | %10s | %6s | %8s |' "$row" "$expect" "$rps" "$p50" "$p99" "$proxy_us" "$ratio" "$backend_us")
	results+=("$r")
	echo "$r" >&2
}

# redis_up: whether a Redis answers PING on 127.0.0.1:6379 (bash's own
# /dev/tcp, so no client is needed).
redis_up() {
	timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/6379 && printf "PING\r\n" >&3 && read -r -t 1 line <&3 && [[ $line == "+PONG"* ]]' 2>/dev/null
}

want() { [[ -z $only || " $only " == *" $1 "* ]]; }

# --- pinpoint ----------------------------------------------------------------
pp=$work/pinpoint

# pinpoint_row ROW CONFIG PATH EXPECT [HEADER...]: fresh process and store per
# row, so every row pays for its own trace records (and only those).
pinpoint_row() {
	local row=$1 cfg=$2 path=$3 expect=$4
	shift 4
	want "$row" || return 0
	local data=$work/pp-$row
	rm -rf "$data"
	mkdir -p "$data"
	sed "s#@DATA@#$data#g; s#@PORT@#$pinpoint_port#g; s#@BACKEND@#$backend_port#g" "$cfg" >"$data/pinpoint.yaml"
	local why
	if ! why=$("$pp" config validate "$data/pinpoint.yaml" 2>&1); then
		echo "bench: $row skipped: the config does not validate (layer not built in yet?): $(head -n 3 <<<"$why" | tr '\n' ' ')" >&2
		results+=("$(printf '| %-28s | skipped: %s |' "$row" "$(head -n 1 <<<"$why" | cut -c1-80)")")
		return 0
	fi
	taskset -c "$proxy_cpu" "$pp" serve -c "$data/pinpoint.yaml" >"$data/pinpoint.log" 2>&1 &
	local pid=$!
	pids+=("$pid")
	wait_http "http://127.0.0.1:$pinpoint_port/" || die "$row: pinpoint did not start (see $data/pinpoint.log)"
	measure "$row${TAG:-}" "http://127.0.0.1:$pinpoint_port$path" "$expect" "$pid" "$backend_pids" "$@"
	if grep -q 'records dropped' "$data/pinpoint.log"; then
		echo "bench: $row: trace records were dropped (queue full) — CPU figure is too low" >&2
	fi
	stop_pid "$pid"
	if command -v sqlite3 >/dev/null 2>&1 && [[ -f $data/pinpoint.db ]]; then
		echo "bench: $row: $(sqlite3 "$data/pinpoint.db" 'select (select count(*) from requests) + (select coalesce(sum(n), 0) from request_blocks)') trace records stored" >&2
	fi
	rm -rf "$data/pinpoint.db" "$data/pinpoint.db-wal" "$data/pinpoint.db-shm"
}

# rows: every row once, in order (one round).
rows() {
	local npid
	if want direct; then
		measure direct "http://127.0.0.1:$backend_port/echo" 200 "" "$backend_pids"
	fi
	if want nginx; then
		npid=$(start_nginx proxy "$proxy_cpu" "$proxy_conf")
		pids+=("$npid")
		wait_http "http://127.0.0.1:$nginx_port/" || die "proxy nginx did not start (see $work/proxy/logs)"
		measure nginx "http://127.0.0.1:$nginx_port/echo" 200 "$(family "$npid")" "$backend_pids"
		stop_pid "$npid"
	fi

	if want go-net-http-floor; then
		(cd "$repo" && go build -o "$work/floor" ./bench/floor)
		taskset -c "$proxy_cpu" "$work/floor" "127.0.0.1:$floor_port" 2>"$work/floor.log" &
		local fpid=$!
		pids+=("$fpid")
		wait_http "http://127.0.0.1:$floor_port/" || die "the floor server did not start (see $work/floor.log)"
		measure go-net-http-floor "http://127.0.0.1:$floor_port/denied" 415 "$fpid" "$backend_pids"
		stop_pid "$fpid"
	fi

	if want go-reverseproxy; then
		(cd "$repo" && go build -o "$work/reverseproxy" ./bench/reverseproxy)
		taskset -c "$proxy_cpu" "$work/reverseproxy" "127.0.0.1:$rp_port" "http://127.0.0.1:$backend_port" 2>"$work/reverseproxy.log" &
		local rpid=$!
		pids+=("$rpid")
		wait_http "http://127.0.0.1:$rp_port/" || die "the reverse proxy did not start (see $work/reverseproxy.log)"
		measure go-reverseproxy "http://127.0.0.1:$rp_port/echo" 200 "$rpid" "$backend_pids"
		stop_pid "$rpid"
	fi

	local c=$here/config
	pinpoint_row pinpoint-post "$c/post.yaml" /echo 200
	pinpoint_row pinpoint-denied-415 "$c/post.yaml" /denied 415
	pinpoint_row pinpoint-no-route-404 "$c/post.yaml" /nowhere 404
	pinpoint_row pinpoint-ip "$c/ip.yaml" /echo 200
	pinpoint_row pinpoint-ratelimit "$c/ratelimit.yaml" /echo 200
	if want pinpoint-ratelimit-redis; then
		if redis_up; then
			pinpoint_row pinpoint-ratelimit-redis "$c/ratelimit-redis.yaml" /echo 200
		else
			results+=("$(printf '| %-28s | skipped: no Redis answers on 127.0.0.1:6379 |' pinpoint-ratelimit-redis)")
		fi
	fi
	pinpoint_row pinpoint-authn-authz "$c/auth.yaml" /echo 200 "X-Api-Key: pp_bench_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
	pinpoint_row pinpoint-waf-pl1 "$c/waf.yaml" /echo 200

}

main() {
	need
	mkdir -p "$work"
	local load0
	load0=$(cut -d' ' -f1 /proc/loadavg)
	if awk -v l="$load0" 'BEGIN{exit !(l > 1.0)}'; then
		echo "bench: load average is $load0 before starting: other work shares these 2 CPUs, so figures will be noisy (CPU µs/req least so)" >&2
	fi
	if [[ -n ${PINPOINT_BIN:-} ]]; then
		pp=$PINPOINT_BIN
	else
		echo "bench: building pinpoint" >&2
		(cd "$repo" && go build -o "$pp" ./cmd/pinpoint)
	fi

	local bpid
	bpid=$(start_nginx backend "$load_cpu" "$backend_conf")
	pids+=("$bpid")
	wait_http "http://127.0.0.1:$backend_port/" || die "backend nginx did not start (see $work/backend/logs)"
	backend_pids=$(family "$bpid")

	echo "| row                          | expect |    req/s | p50 µs  | p99 µs  | proxy µs/req | vs nginx | backend µs/req |" >&2
	results+=("| row | expect | req/s | p50 µs | p99 µs | proxy CPU µs/req | vs nginx | backend CPU µs/req |")
	results+=("|---|---|---:|---:|---:|---:|---:|---:|")

	local round
	for ((round = 1; round <= rounds; round++)); do
		((rounds == 1)) || echo "bench: round $round of $rounds" >&2
		rows
	done

	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC') — $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(uname -r)"
	echo "wrk -t1 -c$conns -d$duration (after a $warmup warm-up), proxy on CPU $proxy_cpu, wrk + nginx backend on CPU $load_cpu; load average $load0 at start, $(cut -d' ' -f1 /proc/loadavg) at end"
	echo
	printf '%s\n' "${results[@]}"
	if ((rounds > 1)); then
		summary
	fi
}

# summary: per row, the lowest proxy CPU figure of all rounds (the least
# disturbed run), the range, and the lowest against nginx's lowest.
summary() {
	local row lo hi base=""
	echo
	echo "Lowest of $rounds rounds (proxy CPU µs/req):"
	echo
	echo "| row | lowest | range | lowest vs nginx lowest |"
	echo "|---|---:|---|---:|"
	[[ -n ${cpu_runs[nginx]:-} ]] && base=$(tr ' ' '\n' <<<"${cpu_runs[nginx]}" | grep . | sort -g | head -n1)
	for row in "${row_order[@]}"; do
		lo=$(tr ' ' '\n' <<<"${cpu_runs[$row]}" | grep . | sort -g | head -n1)
		hi=$(tr ' ' '\n' <<<"${cpu_runs[$row]}" | grep . | sort -g | tail -n1)
		local ratio="–"
		[[ -n $base && $row != nginx ]] && ratio=$(awk -v a="$lo" -v b="$base" 'BEGIN{printf "%.2f", a/b}')
		printf '| %s | %s | %s–%s | %s |\n' "$row" "$lo" "$lo" "$hi" "$ratio"
	done
}

main "$@"
