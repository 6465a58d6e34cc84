#!/usr/bin/env bash
# The grader's sandbox needs bubblewrap (Debian/Ubuntu package `bubblewrap`). Installs it with apt-get where this
# user is root and it is missing; elsewhere says what to do. Exit 0 either way: without bwrap the grader runs
# NOT ISOLATED and says so, and coursework/tests/test_grader.py is skipped with that reason.
set -u
if command -v bwrap >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing bubblewrap (the grader's sandbox) with apt-get ..."
    { apt-get install -y --no-install-recommends bubblewrap || { apt-get update && apt-get install -y --no-install-recommends bubblewrap; }; } \
        > /tmp/bubblewrap-install.log 2>&1 || { tail -n 20 /tmp/bubblewrap-install.log; echo "could not install bubblewrap"; }
else
    echo "bubblewrap (bwrap) is missing: install the package 'bubblewrap' (e.g. sudo apt-get install bubblewrap)."
    echo "Until then the grader runs submissions NOT ISOLATED, and coursework/tests/test_grader.py is skipped."
fi
exit 0
