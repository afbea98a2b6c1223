# The opening the setup and check scripts share (scripts/gpu/check.sh, scripts/reference/setup.sh,
# scripts/tensorflow/setup.sh). A script turns on `set -euo pipefail`, then sources this with the
# name its messages carry:
#   source "$(dirname "${BASH_SOURCE[0]}")/../lib/script-preamble.sh" setup:reference
# It sets ROOT to the repository and changes into it, and defines
#   say MSG...          prints "<name>: MSG"
#   fail MSG...         prints "<name>: ERROR: MSG" on stderr and exits 1
#   print_usage         prints the script's opening comment block (after the #! line), "# " cut
#   unknown_argument A  prints "<name>: unknown argument 'A' (try --help)" on stderr and exits 2
#   on_linux_x86_64     succeeds on Linux x86_64 (the only platform the pinned wheels are for)
#   parse_force_flag "$@"  for scripts whose only option is --force: sets FORCE to 1 or 0, and
#                       prints the usage for -h/--help, refuses anything else
SCRIPT_NAME="$1"
SCRIPT_FILE="${BASH_SOURCE[1]}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

say() { echo "$SCRIPT_NAME: $*"; }
fail() { echo "$SCRIPT_NAME: ERROR: $*" >&2; exit 1; }
print_usage() { awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$SCRIPT_FILE"; }
unknown_argument() { echo "$SCRIPT_NAME: unknown argument '$1' (try --help)" >&2; exit 2; }
on_linux_x86_64() { [ "$(uname -s)" = "Linux" ] && [ "$(uname -m)" = "x86_64" ]; }
parse_force_flag() {
  FORCE=0
  for arg in "$@"; do
    case "$arg" in
      --force) FORCE=1 ;;
      -h|--help) print_usage; exit 0 ;;
      *) unknown_argument "$arg" ;;
    esac
  done
}
