#!/usr/bin/env bash
# What `make pdf` needs besides the Python packages of requirements.txt (Jupyter Book's LaTeX builder):
#   - XeLaTeX and the LaTeX packages Sphinx's LaTeX writer uses: Debian's texlive-xetex, texlive-latex-extra,
#     texlive-fonts-recommended, latexmk, xindy (the index);
#   - the fonts the PDF is set in (_config.yml, latex_elements): fonts-freefont-otf (FreeSerif and FreeSans,
#     the text: Sphinx's XeLaTeX default) and fonts-dejavu-core + fonts-dejavu-extra (DejaVu Sans Mono with its
#     oblique, the code and outputs: it has the characters FreeMono lacks, such as ᵀ, ᵢ and ⱼ);
#   - poppler-utils (pdfinfo, pdftotext, pdfimages) for tests/pdf/check_pdf.py.
# Installed with apt-get when missing and this user can (root, or sudo without a password).
# Exit status: 0 everything is there; 1 an install was tried and failed; 3 something is missing and this
# user cannot install it: the Makefile then skips the PDF, loudly (or give SKIP_PDF=1 to skip on purpose).
set -uo pipefail

log=${TMPDIR:-/tmp}/convattn-pdf-deps.log
# command that must exist -> Debian package providing it
declare -A NEED=(
  [xelatex]=texlive-xetex
  [latexmk]=latexmk
  [xindy]=xindy
  [pdfinfo]=poppler-utils
  [pdftotext]=poppler-utils
  [pdfimages]=poppler-utils
)
# packages without a command of their own: checked with dpkg
ALSO=(texlive-latex-extra texlive-fonts-recommended fonts-freefont-otf fonts-dejavu-core fonts-dejavu-extra)

missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" > /dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
if command -v dpkg-query > /dev/null 2>&1; then
  for pkg in "${ALSO[@]}"; do
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2> /dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
fi
# unique, in a stable order
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sed '/^$/d' | sort -u)

if [ "${#missing[@]}" = 0 ]; then
  echo "pdf-deps: $(xelatex --version 2> /dev/null | head -n 1); $(pdfinfo -v 2>&1 | head -n 1)"
  exit 0
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  elif command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; then
    sudo "$@"
  else
    return 1
  fi
}

can_apt() {
  command -v apt-get > /dev/null 2>&1 \
    && { [ "$(id -u)" = 0 ] || { command -v sudo > /dev/null 2>&1 && sudo -n true 2> /dev/null; }; }
}

if ! can_apt; then
  cat >&2 << MSG
pdf-deps: cannot build the PDF: these Debian packages are missing and this user cannot install them:
    ${missing[*]}
  Install them:   sudo apt-get install --no-install-recommends ${missing[*]}
  or skip the PDF explicitly:   make pdf SKIP_PDF=1
MSG
  exit 3
fi

echo "pdf-deps: installing ${missing[*]} with apt-get (TeX: a few hundred MB, a few minutes; log: $log) ..."
if ! { as_root apt-get update -q \
  && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
  > "$log" 2>&1; then
  tail -n 20 "$log"
  echo "pdf-deps: apt-get install ${missing[*]} failed; full log in $log" >&2
  exit 1
fi
echo "pdf-deps: $(xelatex --version 2> /dev/null | head -n 1); $(pdfinfo -v 2>&1 | head -n 1)"
