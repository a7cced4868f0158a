# Sourced by scripts/run, scripts/test and scripts/bench: make .venv and keep it in step with
# pyproject.toml. Reinstalls only when pyproject.toml (or the requested extras) changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
extras="${VG_EXTRAS:-neural,plot,studio}"

pick_python() {
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null 2>&1 &&
            "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$py"; return 0
        fi
    done
    echo "voiceguide needs Python 3.11 or newer" >&2
    return 1
}

bootstrap() {
    local stamp="$venv/.voiceguide-stamp" want
    want="$(cat "$root/pyproject.toml" | sha256sum | cut -d' ' -f1) $extras"
    if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    if [ ! -x "$venv/bin/python" ]; then
        echo "voiceguide: creating $venv (first run only)..." >&2
        "$(pick_python)" -m venv "$venv"
    fi
    echo "voiceguide: installing dependencies [$extras]..." >&2
    local log="$venv/install.log"
    "$venv/bin/python" -m pip install -q --upgrade pip >"$log" 2>&1 || true
    if ! "$venv/bin/python" -m pip install -q -e "$root[$extras]" >>"$log" 2>&1; then
        # The neural voice is optional: fall back to the always-available engine.
        case ",$extras," in
        *,neural,*)
            local rest
            rest="$(echo "$extras" | tr ',' '\n' | grep -vx neural | paste -sd, -)"
            echo "voiceguide: could not install the neural voice (piper); using pyttsx3/espeak-ng instead (see $log)" >&2
            if [ -n "$rest" ]; then
                "$venv/bin/python" -m pip install -q -e "$root[$rest]" >>"$log" 2>&1
            else
                "$venv/bin/python" -m pip install -q -e "$root" >>"$log" 2>&1
            fi ;;
        *) echo "voiceguide: pip install failed, see $log" >&2; tail -n 20 "$log" >&2; return 1 ;;
        esac
    fi
    echo "$want" >"$stamp"
}
