#!/usr/bin/env bash
# HTTP load on the JSON-RPC server with wrk, against a static nginx page on the
# same machine in the same run as the ceiling. Prints requests/s and p99
# latency for eth_blockNumber, eth_getBalance, eth_getBlockByNumber and nginx.
#
# usage: scripts/bench_rpc.sh [build-dir] [seconds]
#   build-dir  a build with tests (default build-release); the server under
#              load is tests/rpc_fake_node (the RPC layer over the in-memory
#              test chain), or QCN_RPC_URL=http://host:port/ to load a running
#              node instead.
# Load: wrk with 2 connections per core and one thread per core. nginx runs
# one worker process, as our RPC server runs on one loop thread.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-release}
secs=${2:-5}
cores=$(nproc)
conns=$((2 * cores))
tmp=$(mktemp -d /tmp/qcn-bench-rpc.XXXXXX)
node_pid=""
nginx_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null || true
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "bench_rpc: wrk is not installed"; exit 1; }
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

# The RPC server.
if [ -n "${QCN_RPC_URL:-}" ]; then
  url=$QCN_RPC_URL
else
  fake="$build/tests/rpc_fake_node"
  [ -x "$fake" ] || { echo "bench_rpc: $fake not built (ninja -C $build rpc_fake_node)"; exit 1; }
  mkfifo "$tmp/in"
  "$fake" < "$tmp/in" > "$tmp/port" 2>"$tmp/node.log" &
  node_pid=$!
  exec 3>"$tmp/in" # keep its stdin open: it stops when this closes
  for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
  url="http://127.0.0.1:$(head -1 "$tmp/port")/"
fi

# The ceiling: nginx, one worker, a static page the size of a small answer.
nport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$tmp/www" "$tmp/logs"
chmod 755 "$tmp" "$tmp/www" # nginx workers may run as another user
printf '{"jsonrpc":"2.0","id":1,"result":"0x2"}' > "$tmp/www/index.json"
chmod 644 "$tmp/www/index.json"
cat > "$tmp/nginx.conf" <<EOF
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/body; proxy_temp_path $tmp/proxy;
  fastcgi_temp_path $tmp/fcgi; uwsgi_temp_path $tmp/uwsgi; scgi_temp_path $tmp/scgi;
  server {
    listen 127.0.0.1:$nport;
    location / { root $tmp/www; try_files /index.json =404; default_type application/json; }
  }
}
EOF
"$nginx_bin" -p "$tmp" -c "$tmp/nginx.conf" -g 'daemon off;' 2>"$tmp/logs/stderr" &
nginx_pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$nport/" && break; sleep 0.05; done

post_lua() { # $1 = JSON body
  cat <<EOF
wrk.method = "POST"
wrk.body = '$1'
wrk.headers["Content-Type"] = "application/json"
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect +
    summary.errors.read + summary.errors.write + summary.errors.timeout, summary.requests))
end
EOF
}

addr=0x$(printf 'bb%.0s' $(seq 20))
run() { # name url lua
  printf '%s' "$3" > "$tmp/s.lua"
  local line
  line=$(wrk -t"$cores" -c"$conns" -d"${secs}s" --latency -s "$tmp/s.lua" "$2" | grep '^RESULT')
  # shellcheck disable=SC2086
  set -- "$1" $line
  printf "%-24s %10s req/s   p99 %8s ms   (%s requests, %s errors)\n" "$1" "$3" "$4" "$6" "$5"
  echo "$3" > "$tmp/rps.$1"
}

echo "rpc bench: wrk -t$cores -c$conns -d${secs}s ($cores cores; timings on a shared machine are noisy)"
run nginx-static "http://127.0.0.1:$nport/" "$(post_lua '' | sed 's/^wrk.method = "POST"$/wrk.method = "GET"/; /^wrk.body/d')"
run eth_blockNumber "$url" "$(post_lua '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber","params":[]}')"
run eth_getBalance "$url" "$(post_lua "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_getBalance\",\"params\":[\"$addr\",\"latest\"]}")"
run eth_getBlockByNumber "$url" "$(post_lua '{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":["0x1",false]}')"
ratio=$(awk -v a="$(cat "$tmp/rps.eth_blockNumber")" -v b="$(cat "$tmp/rps.nginx-static")" 'BEGIN{printf "%.0f", 100*a/b}')
echo "eth_blockNumber / nginx = ${ratio}% (target >= 50%)"
