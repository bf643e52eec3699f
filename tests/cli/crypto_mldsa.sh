#!/usr/bin/env bash
# qcn crypto for ML-DSA through the real CLI: round trips for all three sets,
# --json field sets, exit codes 0 (valid), 1 (does not verify), 2 (bad input:
# malformed hex, wrong length, unknown algorithm or option, missing argument).
# Usage: crypto_mldsa.sh /path/to/qcn
set -u
qcn=$1
fails=0
checks=0

check() { # check <description> <condition result: 0 ok>
    checks=$((checks + 1))
    if [ "$2" -ne 0 ]; then
        echo "FAIL: $1"
        fails=$((fails + 1))
    fi
}

expect_rc() { # expect_rc <want> <description> <args...>
    local want=$1 desc=$2
    shift 2
    "$qcn" "$@" >/tmp/qcn_cli_crypto_out.$$ 2>/tmp/qcn_cli_crypto_err.$$
    local rc=$?
    [ "$rc" -eq "$want" ]
    check "$desc (exit $rc, want $want; stderr: $(head -c 200 /tmp/qcn_cli_crypto_err.$$))" $?
}

field() { # field <name> <text with name: value lines>
    printf '%s\n' "$2" | sed -n "s/^$1: //p"
}

seed=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
msg=48656c6c6f2c207175616e74756d20776f726c6421
ctx=71636e2d74657374

for alg in ml-dsa-44 ml-dsa-65 ml-dsa-87; do
    kg=$("$qcn" crypto keygen --alg $alg --seed $seed)
    check "$alg keygen exits 0" $?
    pk=$(field pk "$kg")
    sk=$(field sk "$kg")
    [ "$(field seed "$kg")" = "$seed" ]
    check "$alg keygen echoes the seed" $?
    kg2=$("$qcn" crypto keygen --alg $alg --seed 0x$seed)
    [ "$kg" = "$kg2" ]
    check "$alg keygen is a function of the seed" $?

    json=$("$qcn" crypto keygen --alg $alg --seed $seed --json)
    [ "$json" = "{\"pk\":\"$pk\",\"sk\":\"$sk\",\"seed\":\"$seed\"}" ]
    check "$alg keygen --json has exactly pk, sk, seed" $?
    rnd=$("$qcn" crypto keygen --alg $alg --json)
    [ "$rnd" != "$json" ] && [ "${#rnd}" -eq "${#json}" ]
    check "$alg keygen without --seed draws a fresh seed" $?

    s1=$("$qcn" crypto sign --alg $alg --sk $sk --msg $msg --ctx $ctx --deterministic)
    check "$alg sign --sk exits 0" $?
    s2=$("$qcn" crypto sign --alg $alg --seed $seed --msg $msg --ctx $ctx --deterministic)
    [ "$s1" = "$s2" ] && [ -n "$s1" ]
    check "$alg deterministic sign is the same from --seed and --sk" $?
    sig=$(field sig "$s1")
    sj=$("$qcn" crypto sign --alg $alg --sk $sk --msg $msg --ctx $ctx --deterministic --json)
    [ "$sj" = "{\"sig\":\"$sig\"}" ]
    check "$alg sign --json has exactly sig" $?
    h1=$(field sig "$("$qcn" crypto sign --alg $alg --sk $sk --msg $msg)")
    h2=$(field sig "$("$qcn" crypto sign --alg $alg --sk $sk --msg $msg)")
    [ "$h1" != "$h2" ]
    check "$alg hedged signatures differ" $?

    expect_rc 0 "$alg verify good signature" crypto verify --alg $alg --pk $pk --msg $msg --ctx $ctx --sig $sig
    [ "$(cat /tmp/qcn_cli_crypto_out.$$)" = "valid: true" ]
    check "$alg verify prints valid: true" $?
    expect_rc 0 "$alg verify hedged signature 1" crypto verify --alg $alg --pk $pk --msg $msg --sig $h1
    expect_rc 0 "$alg verify hedged signature 2" crypto verify --alg $alg --pk $pk --msg $msg --sig $h2
    expect_rc 0 "$alg verify --json" crypto verify --alg $alg --pk $pk --msg $msg --ctx $ctx --sig $sig --json
    [ "$(cat /tmp/qcn_cli_crypto_out.$$)" = '{"valid":true}' ]
    check "$alg verify --json prints {\"valid\":true}" $?

    badmsg=${msg%??}00
    expect_rc 1 "$alg tampered message" crypto verify --alg $alg --pk $pk --msg $badmsg --ctx $ctx --sig $sig
    [ "$(cat /tmp/qcn_cli_crypto_out.$$)" = "valid: false" ]
    check "$alg tampered message prints valid: false" $?
    expect_rc 1 "$alg wrong context" crypto verify --alg $alg --pk $pk --msg $msg --ctx 00 --sig $sig
    expect_rc 1 "$alg missing context" crypto verify --alg $alg --pk $pk --msg $msg --sig $sig
    flipped=$(printf '%s' "$sig" | sed 's/^\(.\{100\}\)./\1f/')
    [ "$flipped" != "$sig" ] || flipped=$(printf '%s' "$sig" | sed 's/^\(.\{100\}\)./\1e/')
    expect_rc 1 "$alg tampered signature" crypto verify --alg $alg --pk $pk --msg $msg --ctx $ctx --sig $flipped --json
    [ "$(cat /tmp/qcn_cli_crypto_out.$$)" = '{"valid":false}' ]
    check "$alg tampered signature --json prints {\"valid\":false}" $?

    expect_rc 2 "$alg bad hex in --sig" crypto verify --alg $alg --pk $pk --msg $msg --sig "zz${sig#??}"
    grep -q -- "--sig" /tmp/qcn_cli_crypto_err.$$
    check "$alg bad --sig is named in the message" $?
    expect_rc 2 "$alg short --sig" crypto verify --alg $alg --pk $pk --msg $msg --sig "${sig#??}"
    expect_rc 2 "$alg odd --msg" crypto verify --alg $alg --pk $pk --msg 123 --sig $sig
    grep -q -- "--msg" /tmp/qcn_cli_crypto_err.$$
    check "$alg bad --msg is named in the message" $?
    expect_rc 2 "$alg short --pk" crypto verify --alg $alg --pk 00 --msg $msg --sig $sig
    grep -q -- "--pk" /tmp/qcn_cli_crypto_err.$$
    check "$alg bad --pk is named in the message" $?
    expect_rc 2 "$alg short --sk" crypto sign --alg $alg --sk ${sk%??} --msg $msg
    expect_rc 2 "$alg bad --seed" crypto keygen --alg $alg --seed 0g${seed#??}
    grep -q -- "--seed" /tmp/qcn_cli_crypto_err.$$
    check "$alg bad --seed is named in the message" $?
    expect_rc 2 "$alg --ctx over 255 bytes" crypto sign --alg $alg --sk $sk --msg $msg --ctx "$(printf '00%.0s' $(seq 256))"
    expect_rc 2 "$alg sign without --msg" crypto sign --alg $alg --sk $sk
    expect_rc 2 "$alg sign with both --seed and --sk" crypto sign --alg $alg --sk $sk --seed $seed --msg $msg
    expect_rc 2 "$alg verify without --sig" crypto verify --alg $alg --pk $pk --msg $msg
done

# Empty message and context are allowed.
kg=$("$qcn" crypto keygen --alg ml-dsa-44 --seed $seed)
pk=$(field pk "$kg")
sig=$(field sig "$("$qcn" crypto sign --alg ml-dsa-44 --seed $seed --msg "" --ctx "")")
expect_rc 0 "empty message and context" crypto verify --alg ml-dsa-44 --pk $pk --msg "" --ctx "" --sig $sig
# A signature for one set does not pass for another (wrong length there).
expect_rc 2 "ml-dsa-44 signature given to ml-dsa-65" crypto verify --alg ml-dsa-65 --pk $pk --msg "" --sig $sig

expect_rc 2 "unknown algorithm" crypto keygen --alg ml-dsa-99
grep -q "ml-dsa-99" /tmp/qcn_cli_crypto_err.$$
check "unknown algorithm is named" $?
expect_rc 2 "missing --alg" crypto keygen
expect_rc 2 "unknown operation" crypto frobnicate --alg ml-dsa-65
expect_rc 2 "unknown option" crypto keygen --alg ml-dsa-65 --bogus 1
expect_rc 2 "option without value" crypto keygen --alg ml-dsa-65 --seed
expect_rc 2 "no operation" crypto
expect_rc 0 "help" crypto --help
grep -q "ml-kem-768" /tmp/qcn_cli_crypto_out.$$ && grep -q "ml-dsa-87" /tmp/qcn_cli_crypto_out.$$ &&
    grep -q "encaps" /tmp/qcn_cli_crypto_out.$$
check "help lists both ML-DSA and ML-KEM" $?

# QCN_NO_AVX2=1 forces the portable arithmetic: same keys, same deterministic
# signature as the default (AVX2 where the CPU has it).
for alg in ml-dsa-44 ml-dsa-87; do
    a=$("$qcn" crypto sign --alg $alg --seed $seed --msg $msg --ctx $ctx --deterministic)
    b=$(QCN_NO_AVX2=1 "$qcn" crypto sign --alg $alg --seed $seed --msg $msg --ctx $ctx --deterministic)
    [ -n "$a" ] && [ "$a" = "$b" ]
    check "$alg portable and default back ends sign identically" $?
done

# qcn bench crypto runs (tiny sizes) and prints one JSON object with every set.
bj=$("$qcn" bench crypto --iters 5 --batch 8 --json)
check "bench crypto --json exits 0" $?
case "$bj" in
'{"runs":[{"backend":'*']}') r=0 ;;
*) r=1 ;;
esac
check "bench crypto --json is one object" $r
for name in ml-dsa-44 ml-dsa-65 ml-dsa-87 '"op":"keygen"' '"op":"sign"' '"op":"verify"' verify_per_s; do
    printf '%s' "$bj" | grep -q -- "$name"
    check "bench crypto --json mentions $name" $?
done
expect_rc 2 "bench crypto bad --iters" bench crypto --iters 0

rm -f /tmp/qcn_cli_crypto_out.$$ /tmp/qcn_cli_crypto_err.$$
echo "qcn crypto (ML-DSA) CLI: $((checks - fails))/$checks checks passed"
[ "$fails" -eq 0 ]
