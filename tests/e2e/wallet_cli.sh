#!/usr/bin/env bash
# The wallet commands that need no node, through the real `qcn` binary:
# keys new/list/show/export/import/delete, the paper backup round trip and a
# typo, wrong passwords (file byte-identical), password sources, refused
# names and amounts, a bad address checksum, an unreachable node (exit 2 and
# the URL), and the offline build + sign of a transaction file whose edits
# are refused afterwards.
# usage: wallet_cli.sh /path/to/qcn
set -euo pipefail
qcn=$1
tmp=$(mktemp -d /tmp/qcn-wcli-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; [ -f "$tmp/err" ] && tail -5 "$tmp/err"; exit 1; }
unset QCN_RPC QCN_KEYSTORE QCN_PASSWORD
export QCN_KEYSTORE_KDF=1:64
ks=$tmp/ks
printf 'pass one\r\nignored second line\n' >"$tmp/pw" # first line only, CRLF tolerated
printf 'pass two\n' >"$tmp/pw2"
run() { local want=$1; shift; local rc=0; "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?; [ "$rc" = "$want" ] || fail "exit $rc (want $want): $*"; }
k() { "$qcn" keys "$@" --keystore "$ks"; }
jget() { sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$tmp/out" | head -1; }

run 0 k new alice --password-file "$tmp/pw"
run 0 k new bob --scheme ml-dsa-87 --password-file "$tmp/pw2" --json
grep -q '"scheme": "ml-dsa-87"' "$tmp/out" || fail "scheme"
run 2 k new carol --scheme ml-dsa-99 --password-file "$tmp/pw"
run 2 k new ../evil --password-file "$tmp/pw"
run 2 setsid -w "$qcn" keys new nopass --keystore "$ks" # no password source, no terminal
grep -q "QCN_PASSWORD" "$tmp/err" || fail "no-password message"
[ "$(stat -c %a "$ks")" = 700 ] || fail "keystore dir mode"
[ "$(stat -c %a "$ks/alice.key")" = 600 ] || fail "key file mode"
run 0 k list --json
grep -q '"name": "alice"' "$tmp/out" && grep -q '"name": "bob"' "$tmp/out" || fail "list"
run 0 k show alice --json
alice=$(jget address)

# The password from the environment, from the file (first line, CR dropped).
QCN_PASSWORD='pass one' run 0 k export alice --backup
cp "$tmp/out" "$tmp/backup"
run 0 k export alice --backup --password-file "$tmp/pw"
cmp -s "$tmp/out" "$tmp/backup" || fail "same key, different backups"

# Wrong password: exit 2, file unchanged.
sum=$(sha256sum "$ks/alice.key")
run 2 k export alice --backup --password-file "$tmp/pw2"
grep -q "wrong password for key alice" "$tmp/err" || fail "wrong password message"
[ "$(sha256sum "$ks/alice.key")" = "$sum" ] || fail "file changed"
run 2 k delete alice --password-file "$tmp/pw2"
[ -e "$ks/alice.key" ] || fail "deleted with a wrong password"

# Backup round trip into another keystore under another password; a typo.
run 0 "$qcn" keys import restored --backup --backup-file "$tmp/backup" --keystore "$tmp/ks2" --password-file "$tmp/pw2" --json
[ "$(jget address)" = "$alice" ] || fail "restored address"
tr 'a-z' 'A-Z' <"$tmp/backup" >"$tmp/upper"
run 0 "$qcn" keys import upper --backup --backup-file "$tmp/upper" --keystore "$tmp/ks2" --password-file "$tmp/pw2"
sed 's/^\(.\{30\}\)\(.\)/\1#\2/' "$tmp/backup" | sed 's/#q/p/; s/#./q/' >"$tmp/typo"
cmp -s "$tmp/typo" "$tmp/backup" && fail "no typo made"
run 2 "$qcn" keys import typo --backup --backup-file "$tmp/typo" --keystore "$tmp/ks2" --password-file "$tmp/pw2"
grep -q "typo" "$tmp/err" || fail "typo message"
[ ! -e "$tmp/ks2/typo.key" ] || fail "typo imported"

# Offline build (all node values given) and signing; no node anywhere.
off="--chain-id 1337 --nonce 0 --tip 1000000000 --max-fee 3000000000 --rpc http://127.0.0.1:1"
run 0 "$qcn" tx build --from alice --to bob --value 1.25 --out "$tmp/tx.json" --keystore "$ks" $off
grep -q '"value": "1250000000000000000"' "$tmp/tx.json" || fail "value in wei"
grep -q '"publicKey"' "$tmp/tx.json" || fail "offline build attaches the key"
run 2 "$qcn" tx build --from alice --to bob --value 1.5e0 --out "$tmp/x.json" --keystore "$ks" $off
run 2 "$qcn" tx build --from alice --to bob --value 0.1234567890123456789 --out "$tmp/x.json" --keystore "$ks" $off
bobaddr=$("$qcn" keys show bob --keystore "$ks" --json | sed -n 's/^ *"address": "\(0x[0-9a-fA-F]*\)",$/\1/p')
flip=$(echo "$bobaddr" | sed 's/\([a-f]\)/\U\1/; t; s/\([A-F]\)/\L\1/')
run 2 "$qcn" tx build --from alice --to "$flip" --value 1 --out "$tmp/x.json" --keystore "$ks" $off
grep -q "bad address checksum" "$tmp/err" || fail "checksum"
run 2 "$qcn" tx sign "$tmp/tx.json" --from bob --keystore "$ks" --password-file "$tmp/pw2"
run 0 "$qcn" tx sign "$tmp/tx.json" --from alice --keystore "$ks" --password-file "$tmp/pw"
grep -q '"raw": "0x51' "$tmp/tx.json" || fail "signed envelope"
sed 's/"value": "1250000000000000000"/"value": "9250000000000000000"/' "$tmp/tx.json" >"$tmp/edited.json"
run 2 "$qcn" tx submit "$tmp/edited.json" --rpc http://127.0.0.1:1
grep -q "changed after it was written" "$tmp/err" || fail "edited file accepted"

# An unreachable node.
run 2 "$qcn" tx submit "$tmp/tx.json" --rpc http://127.0.0.1:1
grep -q "cannot reach node at http://127.0.0.1:1" "$tmp/err" || fail "unreachable message"
run 2 "$qcn" query head --rpc http://127.0.0.1:1
run 2 "$qcn" query balance alice --rpc ftp://x --keystore "$ks"
run 2 "$qcn" keys list --bogus-option x --keystore "$ks"

run 0 k delete bob --force
[ ! -e "$ks/bob.key" ] || fail "delete"
echo PASS
