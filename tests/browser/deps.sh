#!/usr/bin/env bash
# What `make browser-test` needs besides the Python packages of requirements.txt (selenium):
#   - Debian's Chromium and its driver: /usr/bin/chromium, /usr/bin/chromedriver (apt packages chromium,
#     chromium-driver). Installed with apt-get when missing and this user can (root, or sudo without a
#     password); otherwise this stops and says how to install them or how to skip the browser test.
#   - MathJax 3, so the browser typesets the math without the CDN: npm package mathjax@3.2.2 installed into
#     the folder given as $1 (make passes .venv/browser; Debian only packages MathJax 2). Once installed, no
#     network is needed.
#   - axe-core (the WCAG rule engine Lighthouse uses): npm package axe-core@$AXE_VERSION into the same folder;
#     check_book.py injects its axe.min.js into every page and fails on critical or serious violations.
# Usage: bash tests/browser/deps.sh DIR
set -euo pipefail

MATHJAX_VERSION=3.2.2
AXE_VERSION=4.14.1
dir=${1:?usage: deps.sh DIR  (where MathJax goes, e.g. .venv/browser)}
log=${TMPDIR:-/tmp}/convattn-browser-deps.log

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo > /dev/null && sudo -n true 2> /dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

can_apt() {
  command -v apt-get > /dev/null && { [ "$(id -u)" = 0 ] || { command -v sudo > /dev/null && sudo -n true 2> /dev/null; }; }
}

apt_install() {
  echo "browser-deps: installing $* with apt-get (log: $log) ..."
  if ! { as_root apt-get update -q && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } > "$log" 2>&1; then
    tail -n 20 "$log"
    echo "browser-deps: apt-get install $* failed; full log in $log" >&2
    exit 1
  fi
}

stop() {
  cat >&2 << EOF
browser-test cannot run: $1
  Install it:   $2
  or skip the browser test explicitly:   make test SKIP_BROWSER_TEST=1
EOF
  exit 1
}

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  if can_apt; then
    apt_install chromium chromium-driver
  else
    stop "Debian's Chromium (/usr/bin/chromium, /usr/bin/chromedriver) is not installed, and this user cannot install it." \
      "sudo apt-get install chromium chromium-driver"
  fi
fi

npm_install() {  # npm_install PACKAGE@VERSION
  if ! command -v npm > /dev/null; then
    if can_apt; then
      apt_install npm
    else
      stop "npm (to install $1 once) is not installed." "sudo apt-get install npm   (or any Node.js with npm)"
    fi
  fi
  echo "browser-deps: installing $1 into $dir (npm) ..."
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --save-exact "$1" > "$log" 2>&1 \
    || { tail -n 20 "$log"; echo "browser-deps: npm install $1 failed; log in $log" >&2; exit 1; }
}

version_of() {  # the installed version of an npm package in $dir
  sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/$1/package.json" 2> /dev/null | head -n 1
}

if [ ! -f "$dir/node_modules/mathjax/es5/tex-mml-chtml.js" ]; then
  npm_install "mathjax@$MATHJAX_VERSION"
fi
if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ] || [ "$(version_of axe-core)" != "$AXE_VERSION" ]; then
  npm_install "axe-core@$AXE_VERSION"
fi

echo "browser-deps: $(/usr/bin/chromium --version 2> /dev/null | head -n 1), MathJax $(version_of mathjax), axe-core $(version_of axe-core) in $dir"
