#!/usr/bin/env bash
# Wallet end to end against a real `qcn node` (dev engine, blocks on demand,
# JSON-RPC on a free 127.0.0.1 port, temp data dir): keys, funding from the
# dev key, exact balance movements, wrong password (file unchanged), bad
# address checksum, the node's reason for insufficient funds, an unreachable
# node, the offline build/sign/submit/wait flow, a 2-of-3 multisig on three
# separate keystores (one signature refused by the node, two accepted), paper
# backup round trip and a mistyped backup, key rotation (the old key refused,
# the new one accepted), and a byte-for-byte scan of every keystore file for
# seeds and secret keys. Every wait is bounded; the node is killed on exit.
# usage: wallet_e2e.sh /path/to/qcn
# Fails if `qcn node` does not serve JSON-RPC.
set -euo pipefail
qcn=$1
tmp=$(mktemp -d /tmp/qcn-wallet-XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  for f in "$tmp/err" "$tmp/node.err"; do [ -f "$f" ] && { echo "--- $f"; tail -15 "$f"; }; done
  exit 1
}
step() { echo "== $*"; }

unset QCN_RPC QCN_KEYSTORE QCN_PASSWORD
export QCN_KEYSTORE_KDF=1:64 # fast Argon2id for the test; the default is checked below
data=$tmp/data
ks=$tmp/ks
printf 'correct horse\n' >"$tmp/pw"
printf 'wrong horse\n' >"$tmp/badpw"

# A free port: nothing answers on it now.
port=""
for _ in $(seq 1 50); do
  p=$((10000 + RANDOM % 10000)) # below the other e2e scripts and the ephemeral range
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || fail "no free port"
rpc=http://127.0.0.1:$port

"$qcn" init --dev --datadir "$data" >"$tmp/init.out" || fail "init --dev"
"$qcn" node --datadir "$data" --dev --period 0 --rpc-addr "127.0.0.1:$port" --log-level info \
  >"$tmp/node.out" 2>"$tmp/node.err" &
pid=$!
up=0
for _ in $(seq 1 300); do # 30 s: generous for a loaded machine
  kill -0 "$pid" 2>/dev/null || fail "qcn node exited"
  if "$qcn" query head --rpc "$rpc" >/dev/null 2>&1; then up=1; break; fi
  sleep 0.1
done
[ "$up" = 1 ] || fail "qcn node does not answer JSON-RPC on $rpc"

# q ARGS...: the wallet with this test's keystore, node and password file.
q() { "$qcn" "$@" --rpc "$rpc" --keystore "$ks" --password-file "$tmp/pw"; }
# ok / no / bad: run and expect exit 0 / 1 / 2; stdout in $tmp/out, stderr in $tmp/err.
run() { local want=$1; shift; local rc=0; "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?; [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*"; }
ok() { run 0 "$@"; }
no() { run 1 "$@"; }
bad() { run 2 "$@"; }
jget() { sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$tmp/out" | head -1; }
wei() { ok q query balance "$1" --json; jget balanceWei; }
addr() { ok "$qcn" keys show "$1" --keystore "${2:-$ks}" --json; jget address; }
fee_of() { # gas used * effective price from a --json receipt in $tmp/out
  local g p
  g=$(jget gasUsed); p=$(jget effectiveGasPrice)
  echo "ibase=16; $(echo "${g#0x}" | tr a-f A-F) * $(echo "${p#0x}" | tr a-f A-F)" | bc
}

step "keys: import the dev key, create alice and bob"
ok q keys import dev --dev-key "$data/dev.key"
devaddr=$(sed -n 's/.*"address": *"\(0x[0-9a-fA-F]*\)".*/\1/p' "$data/dev.key")
[ "$(addr dev | tr A-F a-f)" = "$(echo "$devaddr" | tr A-F a-f)" ] || fail "dev key address"
ok q keys new alice
ok q keys new bob --scheme ml-dsa-44
bad q keys new alice # exists
grep -q "already exists" "$tmp/err" || fail "duplicate key name message"
ok q keys list
grep -q '^alice ' "$tmp/out" && grep -q '^bob ' "$tmp/out" || fail "keys list"
alice=$(addr alice); bob=$(addr bob)

step "send 1.5 from dev to alice: balances move exactly"
dev0=$(wei dev)
ok q tx send --from dev --to alice --value 1.5 --wait --json
grep -q '"status": "0x1"' "$tmp/out" || fail "send not successful"
fee=$(fee_of)
[ "$(wei alice)" = 1500000000000000000 ] || fail "alice balance $(wei alice)"
[ "$(wei dev)" = "$(echo "$dev0 - 1500000000000000000 - $fee" | bc)" ] || fail "dev balance"

step "alice sends 0.25 to bob (first transaction: carries alice's key)"
ok q tx send --from alice --to "$bob" --value-wei 250000000000000000 --wait --json
fee=$(fee_of)
[ "$(wei bob)" = 250000000000000000 ] || fail "bob balance"
[ "$(wei alice)" = "$(echo "1500000000000000000 - 250000000000000000 - $fee" | bc)" ] || fail "alice after send"

step "wrong password: exit 2, clear message, key file byte-identical"
sum=$(sha256sum "$ks/alice.key")
bad "$qcn" tx send --from alice --to bob --value 0.1 --rpc "$rpc" --keystore "$ks" --password-file "$tmp/badpw"
grep -q "wrong password for key alice" "$tmp/err" || fail "wrong password message"
[ "$(sha256sum "$ks/alice.key")" = "$sum" ] || fail "key file changed by a failed unlock"
QCN_PASSWORD="wrong" bad "$qcn" keys export alice --backup --keystore "$ks"
[ "$(sha256sum "$ks/alice.key")" = "$sum" ] || fail "key file changed"

step "address checksum: a mixed-case typo is refused, all-lower is accepted"
flipped=$(echo "$bob" | sed 's/\([a-f]\)/\U\1/; t; s/\([A-F]\)/\L\1/')
[ "$flipped" != "$bob" ] || fail "could not flip a letter"
bad q tx send --from alice --to "$flipped" --value 0.01
grep -q "bad address checksum" "$tmp/err" || fail "checksum message"
lower=$(echo "$bob" | tr A-F a-f)
bob0=$(wei bob)
ok q tx send --from alice --to "$lower" --value 0.000000000000000001 --wait
[ "$(wei bob)" = "$(echo "$bob0 + 1" | bc)" ] || fail "1 wei to a lower-case address"

step "amounts: too many decimals, exponent, negative are refused before anything is signed"
bad q tx send --from alice --to bob --value 0.0000000000000000001
bad q tx send --from alice --to bob --value 1e18
bad q tx send --from alice --to bob --value -1

step "insufficient funds: the node's reason"
no q tx send --from alice --to bob --value 1000
grep -q "insufficient funds" "$tmp/err" || fail "insufficient funds reason: $(cat "$tmp/err")"

step "unreachable node: exit 2"
bad "$qcn" query balance "$alice" --rpc http://127.0.0.1:1
grep -q "cannot reach node at http://127.0.0.1:1" "$tmp/err" || fail "unreachable message"

step "offline flow: build (node fills), sign (no node), submit, wait"
ok q tx build --from alice --to bob --value 0.125 --out "$tmp/tx.json"
grep -q '"signatures": \[\]' "$tmp/tx.json" || fail "built file is signed"
ok "$qcn" tx sign "$tmp/tx.json" --from alice --keystore "$ks" --password-file "$tmp/pw" --rpc http://127.0.0.1:1
grep -q '"raw"' "$tmp/tx.json" || fail "signed file has no envelope"
bad "$qcn" tx sign "$tmp/tx.json" --from bob --keystore "$ks" --password-file "$tmp/pw"
grep -q "does not sign for" "$tmp/err" || fail "wrong signer message"
bob0=$(wei bob)
ok q tx submit "$tmp/tx.json"
hash=$(head -1 "$tmp/out")
ok q tx wait "$hash" --timeout 20
grep -q "status success" "$tmp/out" || fail "tx wait"
grep -q "included in block" "$tmp/err" || fail "no progress line"
[ "$(wei bob)" = "$(echo "$bob0 + 125000000000000000" | bc)" ] || fail "offline transfer amount"
ok q query receipt "$hash"
grep -q "success" "$tmp/out" || fail "query receipt"
ok q query tx "$hash" --json

step "multisig 2 of 3 on three separate keystores"
for i in 1 2 3; do
  ok "$qcn" keys new "s$i" --keystore "$tmp/ks$i" --password-file "$tmp/pw" --scheme ml-dsa-$([ $i = 2 ] && echo 44 || echo 65)
  ok "$qcn" keys show "s$i" --keystore "$tmp/ks$i" --public-key --json
  eval "pk$i=\$(jget publicKey)"
done
ok q multisig create --threshold 2 --keys "$pk1,$pk2,$pk3" --from dev --value 10 --name team
msig=$(head -1 "$tmp/out")
[ "$(wei team)" = 10000000000000000000 ] || fail "multisig funding"
ok q multisig show team
grep -q "threshold 2 of 3" "$tmp/out" || fail "multisig show"
ok q multisig propose --multisig "$msig" --to bob --value 2.5 --out "$tmp/prop.json"
ok "$qcn" multisig sign "$tmp/prop.json" --key s1 --keystore "$tmp/ks1" --password-file "$tmp/pw"
bad "$qcn" multisig sign "$tmp/prop.json" --key alice --keystore "$ks" --password-file "$tmp/pw"
grep -q "not one of the 3 keys" "$tmp/err" || fail "outsider signed"
bad q multisig submit "$tmp/prop.json" # refused locally: 1 of 2
no q multisig submit "$tmp/prop.json" --force # the node refuses one signature
grep -q "multisig threshold not met" "$tmp/err" || fail "node accepted one signature: $(cat "$tmp/err")"
ok "$qcn" multisig sign "$tmp/prop.json" --key s3 --keystore "$tmp/ks3" --password-file "$tmp/pw"
grep -q "2 of 2 signatures" "$tmp/out" || fail "second signature"
bob0=$(wei bob)
ok q multisig submit "$tmp/prop.json" --wait --json
fee=$(fee_of)
[ "$(wei bob)" = "$(echo "$bob0 + 2500000000000000000" | bc)" ] || fail "multisig transfer to bob"
[ "$(wei team)" = "$(echo "10000000000000000000 - 2500000000000000000 - $fee" | bc)" ] || fail "multisig balance"

step "paper backup: round trip restores the same address, a typo is caught"
ok q keys export alice --backup
cp "$tmp/out" "$tmp/backup.txt"
grep -q '^qcnse ed1' "$tmp/backup.txt" || fail "backup format"
ok q keys import alice2 --backup --backup-file "$tmp/backup.txt"
[ "$(addr alice2)" = "$alice" ] || fail "restored address differs"
# one character changed (the 20th): q<->p, anything else -> q
sed 's/^\(.\{19\}\)q/\1p/; t; s/^\(.\{19\}\)./\1q/' "$tmp/backup.txt" >"$tmp/typo.txt"
cmp -s "$tmp/backup.txt" "$tmp/typo.txt" && fail "typo not made"
bad q keys import alice3 --backup --backup-file "$tmp/typo.txt"
grep -q "typo" "$tmp/err" || fail "typo message"
[ ! -e "$ks/alice3.key" ] || fail "a mistyped backup was imported"
ok q keys import alice4 --backup <"$tmp/backup.txt"
[ "$(addr alice4)" = "$alice" ] || fail "backup from stdin"

step "key rotation: bob moves to ML-DSA-87; the old key is refused, the new one accepted"
ok q keys rotate bob --to-alg ml-dsa-87
[ -e "$ks/bob.old.key" ] || fail "old key not kept"
[ "$(addr bob)" = "$bob" ] && [ "$(addr bob.old)" = "$bob" ] || fail "account address changed"
ok q query account bob --json
grep -q '"name": "ML-DSA-87"' "$tmp/out" || fail "chain does not record the new key"
bad q tx send --from bob.old --to alice --value 0.01 # caught locally
grep -q "not the key recorded on chain" "$tmp/err" || fail "local rotation check"
no q tx send --from bob.old --to alice --value 0.01 --force # and by the node
grep -q "node refused" "$tmp/err" || fail "node accepted the old key"
a0=$(wei alice)
ok q tx send --from bob --to alice --value 0.01 --wait
[ "$(wei alice)" = "$(echo "$a0 + 10000000000000000" | bc)" ] || fail "new key transfer"

step "queries"
ok q query head --json
grep -q '"chainId": 1337' "$tmp/out" || fail "query head"
ok q query block latest
ok q query nonce dev --json
ok q query account "$(echo "$alice" | tr a-f A-F | sed 's/^0X/0x/')"

step "no keystore file contains a seed or a secret key"
for f in "$ks"/*.key "$tmp"/ks[123]/*.key; do
  name=$(basename "$f" .key); dir=$(dirname "$f")
  ok "$qcn" keys export "$name" --hex --keystore "$dir" --password-file "$tmp/pw"
  seed=$(head -1 "$tmp/out"); seed=${seed#0x}
  ok "$qcn" keys show "$name" --keystore "$dir" --json
  alg=$(jget scheme)
  ok "$qcn" crypto keygen --alg "$alg" --seed "$seed"
  sk=$(sed -n 's/^sk: //p' "$tmp/out")
  [ ${#sk} -gt 1000 ] || fail "no secret key for $name"
  hexfile=$(xxd -p "$f" | tr -d '\n')
  case "$hexfile" in *"$seed"*) fail "$f contains its seed";; esac
  case "$hexfile" in *"${sk:64}"*) fail "$f contains its secret key";; esac # rho (sk[0:32]) is public
  case "$hexfile" in *"${sk:64:64}"*) fail "$f contains K";; esac
  grep -qi "$seed" "$f" && fail "$f contains the seed as text"
  [ "$(stat -c %a "$f")" = 600 ] || fail "$f is not mode 0600"
done

step "default KDF is the strong one"
QCN_KEYSTORE_KDF= "$qcn" keys new strong --keystore "$tmp/ks-strong" --password-file "$tmp/pw" >/dev/null
ok "$qcn" keys show strong --keystore "$tmp/ks-strong" --json
grep -q '"memKiB": 131072' "$tmp/out" && grep -q '"ops": 3' "$tmp/out" || fail "default KDF parameters"

kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done # 10 s
kill -0 "$pid" 2>/dev/null && fail "node did not stop within 10 s of SIGTERM"
rc=0; wait "$pid" || rc=$?
pid=""
[ "$rc" = 0 ] || fail "node exited $rc on SIGTERM"
echo "PASS"
