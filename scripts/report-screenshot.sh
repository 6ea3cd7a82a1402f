#!/usr/bin/env bash
# Renders a report.html in headless Chromium and saves a PNG screenshot, to
# check that the embedded plots display without network access.
#
# Usage: scripts/report-screenshot.sh [REPORT_HTML_OR_DIR] [OUT_PNG]
#   With no argument it builds bench, writes a report from the synthetic
#   fixtures in report/testdata/fixtures into a temporary directory, and
#   screenshots that.
# Environment: WINDOW (default 1400,4000), CHROMIUM (browser binary).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

target=${1:-}
out=${2:-}
work=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$work" "$profile"' EXIT

if [ -z "$target" ]; then
	go build -o "$work/bench" ./bench
	f=report/testdata/fixtures
	# Exit status 0: the bad fixture directories are reported and left out.
	"$work/bench" report -o "$work/report" "$f/dc-a" "$f/dc-b" "$f/bad-schema" "$f/old-harness" "$f/empty" 2>"$work/stderr.txt" || {
		cat "$work/stderr.txt" >&2
		exit 1
	}
	target=$work/report/report.html
	out=${out:-${TMPDIR:-/tmp}/enclavebench-report-screenshot.png}
fi
if [ -d "$target" ]; then
	target=$target/report.html
fi
if [ ! -f "$target" ]; then
	echo "report-screenshot: $target: no such report" >&2
	exit 2
fi
out=${out:-$(dirname "$target")/report-screenshot.png}

browser=${CHROMIUM:-}
if [ -z "$browser" ]; then
	for b in chromium chromium-browser google-chrome; do
		if command -v "$b" >/dev/null 2>&1; then
			browser=$b
			break
		fi
	done
fi
if [ -z "$browser" ]; then
	echo "report-screenshot: installing chromium" >&2
	if [ "$(id -u)" -ne 0 ]; then
		echo "report-screenshot: chromium is missing; install it (apt-get install -y chromium) or set CHROMIUM" >&2
		exit 2
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >/dev/null
	browser=chromium
fi

abs=$(cd "$(dirname "$target")" && pwd)/$(basename "$target")
mkdir -p "$(dirname "$out")"
out_abs=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
# No network: the report must be self-contained.
"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$profile" \
	--hide-scrollbars --screenshot="$out_abs" --window-size="${WINDOW:-1400,4000}" "file://$abs" \
	>"$work/chromium.log" 2>&1 || {
	cat "$work/chromium.log" >&2
	exit 1
}
if [ ! -s "$out_abs" ]; then
	echo "report-screenshot: chromium wrote no screenshot" >&2
	cat "$work/chromium.log" >&2
	exit 1
fi
echo "screenshot: $out_abs"
