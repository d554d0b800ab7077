#!/bin/sh
# gate-managed hook: written by `gate install`, removed by `gate uninstall`.
# It runs `gate hook <name>`; a hook that was here before gate (kept as
# <name>.gate-previous by `gate install --force`) runs first, with the same input.
hook_name=$(basename "$0")
hook_dir=$(dirname "$0")

if [ -n "${GATE_BIN:-}" ]; then
    gate=$GATE_BIN
elif command -v gate >/dev/null 2>&1; then
    gate=gate
elif [ -x @GATE_BIN@ ]; then
    gate=@GATE_BIN@
else
    echo "gate: cannot find the gate binary to run the $hook_name hook" >&2
    echo "hint: put gate on PATH (cargo install --path <gate checkout>), set GATE_BIN, or remove the hook with 'gate uninstall'" >&2
    exit 1
fi

previous="$hook_dir/$hook_name.gate-previous"
if [ -x "$previous" ]; then
    if [ -t 0 ]; then
        "$previous" "$@" || exit $?
    else
        input=$(mktemp) || exit 1
        trap 'rm -f "$input"' EXIT
        cat >"$input"
        "$previous" "$@" <"$input" || exit $?
        "$gate" hook "$hook_name" "$@" <"$input"
        exit $?
    fi
fi
exec "$gate" hook "$hook_name" "$@"
