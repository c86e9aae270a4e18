#!/usr/bin/env bash
# Renders export files the way a person sees them: CSV/XLSX → PDF with LibreOffice (headless),
# then every PDF → PNG pages with pdftoppm (60 dpi), next to the input files.
#
#   scripts/render-exports.sh FILE...            # .csv, .xlsx or .pdf
#   scripts/render-exports.sh --samples DIR      # write the test samples into DIR, render them
#
# Needs: soffice (Debian: libreoffice-calc-nogui, else libreoffice-calc) and pdftoppm
# (poppler-utils); fonts-urw-base35 makes poppler draw Helvetica with its real metrics (without
# it DejaVu Sans stands in and text looks oddly spaced). `--samples` also needs cargo: it runs
# the tests exports_pdf::write_samples (sample.csv/.xlsx/.pdf) and
# print::table_pdf::tests::write_preview_when_asked (table_edge.pdf: wrapped headers, a shrunk
# font, an empty table, a cut text, a page break).
set -euo pipefail

usage() {
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "error: $1 not found (install $2)" >&2
        exit 1
    }
}

[ $# -ge 1 ] || usage

files=()
if [ "$1" = "--samples" ]; then
    [ $# -eq 2 ] || usage
    mkdir -p "$2"
    dir=$(cd "$2" && pwd)
    root=$(cd "$(dirname "$0")/.." && pwd)
    (cd "$root" && EXPORT_PREVIEW_DIR="$dir" cargo test --quiet --test it exports_pdf::write_samples -- --exact)
    (cd "$root" && PRINT_PREVIEW_DIR="$dir" cargo test --quiet --lib print::table_pdf::tests::write_preview_when_asked -- --exact)
    files=("$dir/sample.csv" "$dir/sample.xlsx" "$dir/sample.pdf" "$dir/table_edge.pdf")
else
    files=("$@")
fi

need pdftoppm poppler-utils
# LibreOffice needs a writable profile; a private one also avoids clashing with a running instance.
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

for f in "${files[@]}"; do
    [ -f "$f" ] || {
        echo "error: no such file: $f" >&2
        exit 1
    }
    dir=$(cd "$(dirname "$f")" && pwd)
    base=$(basename "$f")
    stem=${base%.*}
    ext=${base##*.}
    case "${ext,,}" in
    csv | xlsx | xls | ods)
        need soffice "libreoffice-calc-nogui or libreoffice-calc"
        out="$dir/$stem.$ext.pdf"
        tmp=$(mktemp -d)
        # CSV: comma-separated, UTF-8 (76), first line is data.
        filter=()
        if [ "${ext,,}" = csv ]; then
            filter=(--infilter="CSV:44,34,76,1")
        fi
        if ! soffice -env:UserInstallation="file://$profile" --headless "${filter[@]}" \
            --convert-to pdf --outdir "$tmp" "$dir/$base" >"$tmp/log" 2>&1 ||
            [ ! -f "$tmp/$stem.pdf" ]; then
            echo "error: soffice could not convert $f:" >&2
            cat "$tmp/log" >&2
            rm -rf "$tmp"
            exit 1
        fi
        mv "$tmp/$stem.pdf" "$out"
        rm -rf "$tmp"
        pdf=$out
        ;;
    pdf)
        pdf="$dir/$base"
        ;;
    *)
        echo "error: $f: expected .csv, .xlsx or .pdf" >&2
        exit 1
        ;;
    esac
    prefix="${pdf%.pdf}"
    pdftoppm -png -r 60 "$pdf" "$prefix"
    ls -1 "$prefix"-*.png
done
